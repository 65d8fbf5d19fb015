"""One real uvicorn process (`recsys serve`): HTTP, the OpenAI client, headless Chromium."""

from __future__ import annotations

import httpx
import pytest

from serving.process import served
from tests.helpers import SCREENSHOTS, headless_chromium


@pytest.fixture(scope="module")
def server(serving_ws, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {"RECSYS_API_KEY": "live-secret", "RECSYS_DEVICE": "cpu"}
    with served(serving_ws.root, log, env) as base:
        yield base


def test_recommendations_over_http(server):
    r = httpx.get(f"{server}/users/1/recommendations", params={"k": 5}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert len(body["items"]) == 5 and body["model_version"] == "run-a"
    poster = httpx.get(server + body["items"][0]["poster_url"], timeout=10)
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"


def test_openai_client_embeddings(server):
    import numpy as np
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key="unused", timeout=60)
    assert "all-MiniLM-L6-v2" in [m.id for m in client.models.list().data]
    res = client.embeddings.create(model="all-MiniLM-L6-v2", input=["space adventure", "romance"])
    assert [d.index for d in res.data] == [0, 1]
    vecs = np.asarray([d.embedding for d in res.data])
    assert vecs.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert res.usage.prompt_tokens > 0 and res.usage.total_tokens == res.usage.prompt_tokens
    one = client.embeddings.create(
        model="all-MiniLM-L6-v2", input="space adventure", encoding_format="float"
    )
    assert np.allclose(one.data[0].embedding, vecs[0], atol=1e-5)
    from openai import NotFoundError

    with pytest.raises(NotFoundError):
        client.embeddings.create(model="gpt-nope", input="x")


def test_web_page_in_headless_chromium(server):
    SCREENSHOTS.mkdir(exist_ok=True)
    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/", wait_until="networkidle")
        options = page.locator("#user option")
        assert options.count() > 1
        user = options.nth(1).get_attribute("value")
        page.select_option("#user", user)
        page.wait_for_selector("#recs .card img")
        page.wait_for_function(
            "[...document.querySelectorAll('#recs img, #history img')]"
            ".every(i => i.complete && i.naturalWidth > 0)",
            timeout=15000,
        )
        titles = page.locator("#recs .card .title").all_inner_texts()
        reasons = page.locator("#recs .card .reason").all_inner_texts()
        assert len(titles) == 12 and all(titles) and all(reasons)
        assert page.locator("#history .card").count() > 0
        page.screenshot(path=str(SCREENSHOTS / "web_page.png"), full_page=True)
        # Free text instead of a user.
        page.select_option("#user", "")
        page.fill("#text", "haunted house at midnight")
        page.click("button[type=submit]")
        page.wait_for_function(
            "document.querySelector('#recs .card .title')?.textContent.startsWith('Night')"
        )
        assert not errors, errors
