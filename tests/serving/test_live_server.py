"""One real uvicorn process (`recsys serve`): HTTP and the OpenAI client (the web page in
headless Chromium: test_web_page.py)."""

from __future__ import annotations

import httpx
import pytest

# `server` (tests/serving/conftest.py): `recsys serve` on the suite's workspace, user pages public


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
