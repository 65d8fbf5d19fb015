"""The API edge: what a fuzzer (schemathesis) found, each pinned by a request that once failed."""

from __future__ import annotations

import shutil
import time

import pytest
from fastapi.testclient import TestClient

from recsys.core.runs import Run
from serving.app import create_app
from serving.engine import EncoderUnavailable, RecommendationEngine
from serving.settings import Settings
from tests.serving.conftest import API_KEY
from tests.serving.workspace import clone_run

HUGE = "1" * 20  # > 2**63 - 1: once a numpy OverflowError, i.e. a 500
AUTH = {"X-API-Key": API_KEY}


def _loc(r) -> list:
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]["loc"]


def test_ids_beyond_int64_are_422(client):
    assert _loc(client.get(f"/items/{HUGE}/similar")) == ["path", "item_id"]
    assert _loc(client.get(f"/media/posters/{HUGE}")) == ["path", "item_id"]
    assert _loc(client.get(f"/users/{HUGE}/recommendations")) == ["path", "user_id"]
    r = client.post("/recommendations", json={"history": [100, int(HUGE)]})
    assert _loc(r) == ["body", "history", 1]
    # once accepted and written to the event log, where training would choke on it
    event = {"user_id": int(HUGE), "item_id": 100}
    assert _loc(client.post("/events", json={"events": [event]}, headers=AUTH)) == [
        "body",
        "events",
        0,
        "user_id",
    ]
    assert _loc(client.get("/items/-1/similar")) == ["path", "item_id"]


@pytest.mark.parametrize("genre", ["0" * 100, "nope"])
def test_unknown_genre_is_422_naming_the_known_ones(client, genre):
    r = client.get("/users/1/recommendations", params={"genre": genre})
    assert _loc(r) == ["query", "genre"]
    message = r.json()["detail"][0]["msg"]
    assert f"unknown genre {genre!r}" in message and "comedy, horror, romance, sci-fi" in message
    r = client.post("/recommendations", json={"history": [130], "genre": genre})
    assert _loc(r) == ["body", "genre"]


def test_known_genre_any_case_still_filters(client):
    body = client.post("/recommendations", json={"history": [100], "genre": "HORROR"}).json()
    assert body["items"] and all(it["title"].startswith("Night") for it in body["items"])


def test_empty_year_range_and_oversized_values_are_422(client):
    r = client.get("/users/1/recommendations", params={"year_min": 2010, "year_max": 2000})
    assert _loc(r) == ["query", "year_max"]
    r = client.post("/recommendations", json={"year_min": 2010, "year_max": 2000})
    assert _loc(r) == ["body", "year_max"]
    assert _loc(client.post("/recommendations", json={"genre": "x" * 101})) == ["body", "genre"]
    assert _loc(client.get("/users/1/recommendations", params={"year_min": 10**30})) == [
        "query",
        "year_min",
    ]


def test_text_that_is_not_unicode_is_422_not_500(client):
    # JSON may escape a lone surrogate; it once reached the tokenizer and the UTF-8 encoder
    raw = b'{"text": "\\udbb5 space"}'
    r = client.post("/recommendations", content=raw, headers={"content-type": "application/json"})
    assert _loc(r) == ["body", "text"]
    event = b'{"events": [{"user_id": 1, "item_id": 100, "review_text": "\\ud800"}]}'
    r = client.post("/events", content=event, headers={**AUTH, "content-type": "application/json"})
    assert _loc(r) == ["body", "events", 0, "review_text"]
    # a body that is not UTF-8: the 422 once failed to echo its bytes back
    r = client.post("/search", content=b"\xff\xfe{", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["input"]


def test_user_pages_need_the_key_unless_public(client, settings, engine):
    for path in ("/users", "/users/1/history"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"X-API-Key": "wrong"}).status_code == 403
        assert client.get(path, headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200
    public = settings.model_copy(update={"public_user_pages": True})
    with TestClient(create_app(public, engine=engine)) as c:
        assert c.get("/users").json()["users"]
        assert c.get("/users/1/history").json()["known"] is True


def test_public_user_pages_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RECSYS_PUBLIC_USER_PAGES", "1")
    assert Settings(workspace=tmp_path).public_user_pages is True
    monkeypatch.delenv("RECSYS_PUBLIC_USER_PAGES")
    assert Settings(workspace=tmp_path).public_user_pages is False


# every status each route can answer, as its OpenAPI operation must declare it
DECLARED = {
    ("get", "/users/{user_id}/recommendations"): {200, 422, 503},
    ("post", "/recommendations"): {200, 400, 409, 413, 422, 501, 503},
    ("get", "/items/{item_id}/similar"): {200, 404, 409, 422, 503},
    ("get", "/media/posters/{item_id}"): {200, 404, 422, 503},
    ("get", "/users"): {200, 401, 403, 503},
    ("get", "/users/{user_id}/history"): {200, 401, 403, 422, 503},
    ("post", "/events"): {200, 400, 401, 403, 413, 422, 503},
    ("post", "/search"): {200, 409, 413, 415, 422, 501, 503},
    ("post", "/admin/reload"): {200, 401, 403, 409},
    ("get", "/ready"): {200, 503},
    ("get", "/items/popular"): {200, 422, 503},
    ("get", "/items/new"): {200, 422, 503},
    ("get", "/media/trailers/{item_id}"): {200, 206, 400, 404, 416, 422, 503},
    ("post", "/v1/embeddings"): {200, 400, 404, 413, 422, 503},
}
# partial video content and Starlette's range errors (malformed, unsatisfiable) are not JSON
NOT_JSON = {"/media/trailers/{item_id}": {"206", "400", "416"}}


def test_every_status_is_declared_with_a_body(client):
    spec = client.get("/openapi.json").json()
    for (method, path), codes in DECLARED.items():
        responses = spec["paths"][path][method]["responses"]
        assert {int(c) for c in responses} == codes, (method, path)
        for code, response in responses.items():
            assert response["description"], (path, code)
            if code != "200" and code not in NOT_JSON.get(path, ()):
                assert response["content"]["application/json"]["schema"], (path, code)
    assert spec["components"]["schemas"]["ErrorBody"]["required"] == ["detail"]
    assert {"APIKeyHeader", "HTTPBearer"} <= set(spec["components"]["securitySchemes"])


def test_no_filesystem_path_in_any_response(tmp_path, settings, engine):
    empty = Settings(workspace=tmp_path, api_key=API_KEY, reload_poll_seconds=0)
    with TestClient(create_app(empty)) as c:
        deadline = time.time() + 30
        while (ready := c.get("/ready")).json()["status"] == "loading" and time.time() < deadline:
            time.sleep(0.05)
        no_engine = c.get("/users/1/recommendations")
        reload = c.post("/admin/reload", headers=AUTH)
    assert (ready.status_code, no_engine.status_code, reload.status_code) == (503, 503, 409)
    for text in (ready.text, no_engine.text, reload.text):
        assert str(tmp_path) not in text and "Traceback" not in text
    assert "recsys train" in ready.json()["error"]
    with TestClient(create_app(settings, engine=engine)) as c:
        assert c.get("/version").json()["run_dir"] == "run-a"


class _BrokenEncoders:
    """Stands in for an encoder pool whose model failed to load with a library's message."""

    has_clip = False

    def embed_text(self, texts):
        cause = OSError("/opt/secret/models/minilm/model.safetensors: permission denied")
        raise EncoderUnavailable(f"encoder 'minilm' unavailable: {cause}") from cause


def test_a_library_error_reaches_the_log_not_the_client(settings, engine):
    broken = RecommendationEngine(engine.snap, _BrokenEncoders())  # type: ignore[arg-type]
    with TestClient(create_app(settings, engine=broken)) as c:
        r = c.post("/recommendations", json={"text": "space"})
    assert r.status_code == 501 and "/opt/secret" not in r.text
    assert "cannot be loaded" in r.json()["detail"]


@pytest.fixture
def private_ws(serving_ws, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(
        serving_ws.root, root, symlinks=True, ignore=shutil.ignore_patterns("media", "events")
    )
    return root


@pytest.mark.parametrize(
    ("relative", "content"),
    [("models/pipeline/titles.json", "null"), ("manifest.json", '{"run_id": 5}')],
    ids=["titles-not-a-list", "run-id-not-a-string"],
)
def test_reload_of_a_damaged_run_is_409_and_the_old_run_serves(
    private_ws, engine, relative, content
):
    """JSON of the wrong shape loads without error: it once swapped in (200), then every
    request answered 500 (titles), or the reload itself did and the broken run stayed."""
    settings = Settings(workspace=private_ws, api_key=API_KEY, reload_poll_seconds=0)
    with TestClient(create_app(settings, engine=engine)) as c:
        artifacts = private_ws / "artifacts"
        run = clone_run(c.app.state.service.ws, "run-a", "run-damaged")
        (run.path / relative).write_text(content)
        run.publish()
        r = c.post("/admin/reload", headers=AUTH)
        assert r.status_code == 409, r.text
        assert "run-damaged" in r.json()["detail"] and "still serving run-a" in r.json()["detail"]
        assert str(artifacts) not in r.text
        assert c.get("/users/1/recommendations").json()["model_version"] == "run-a"
        Run(artifacts / "run-a").publish()
        assert c.post("/admin/reload", headers=AUTH).status_code == 200
