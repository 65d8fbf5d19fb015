"""Health, readiness, metrics, version, docs and the web page's own endpoints."""

from __future__ import annotations

import time

from tests.serving.conftest import API_KEY


def test_health_ready_version(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["model_version"] == "run-a"
    v = client.get("/version").json()
    assert v["model_version"] == "run-a" and v["modalities"] == ["image", "text"]


def test_ready_is_503_until_loaded_then_200(settings):
    from fastapi.testclient import TestClient

    from serving.app import create_app

    app = create_app(settings)  # no engine given: the lifespan loads it in the background
    lock = app.state.service._reload_lock
    lock.acquire()  # the background load waits for it: the first requests find no engine yet
    with TestClient(app) as c:
        first = c.get("/ready")
        no_engine = c.get("/users/1/recommendations")
        lock.release()
        assert first.status_code == 503
        assert first.json()["status"] == "loading" and first.json()["error"] is None
        assert no_engine.status_code == 503 and "not loaded yet" in no_engine.json()["detail"]
        deadline = time.time() + 60
        while c.get("/ready").status_code != 200 and time.time() < deadline:
            time.sleep(0.2)
        assert c.get("/ready").status_code == 200
        assert c.get("/users/1/recommendations").status_code == 200


def test_ready_reports_load_error(tmp_path):
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.settings import Settings

    with TestClient(create_app(Settings(workspace=tmp_path, reload_poll_seconds=0))) as c:
        deadline = time.time() + 10
        while not c.get("/ready").json().get("error") and time.time() < deadline:
            time.sleep(0.1)
        r = c.get("/ready")
        assert r.status_code == 503 and "recsys train" in r.json()["error"]
        r = c.get("/users/1/recommendations")
        assert r.status_code == 503 and "recsys train" in r.json()["detail"]


def test_metrics_per_route_template(client):
    client.get("/users/1/recommendations")
    client.get("/users/2/recommendations")
    text = client.get("/metrics").text
    assert 'route="/users/{user_id}/recommendations"' in text
    assert "recsys_http_request_duration_seconds_bucket" in text
    assert 'model_version="run-a"' in text


def test_openapi_docs(client):
    spec = client.get("/openapi.json").json()
    for path in (
        "/users/{user_id}/recommendations",
        "/recommendations",
        "/search",
        "/items/{item_id}/similar",
        "/v1/embeddings",
        "/events",
        "/admin/reload",
    ):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200


def test_web_page_and_its_endpoints(client, engine):
    page = client.get("/")
    assert page.status_code == 200 and "app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    auth = {"X-API-Key": API_KEY}  # user pages are private by default (tests/serving/test_edges)
    users = client.get("/users", headers=auth).json()["users"]
    assert users and all(u["n_liked"] >= 5 for u in users)
    hist = client.get(f"/users/{users[0]['user_id']}/history", headers=auth).json()
    assert hist["known"] and len(hist["items"]) == users[0]["n_liked"]


def test_history_page_lists_badly_rated_titles_as_seen(client, engine):
    """The page sends ``seen`` with the history, so a watched-but-disliked title stays out."""
    auth = {"X-API-Key": API_KEY}
    h = engine.snap.histories
    user = next(u for u, s in h.seen.items() if len(s) > len(h.liked.get(u, ())) >= 1)
    page = client.get(f"/users/{user}/history", headers=auth).json()
    liked = {it["item_id"] for it in page["items"]}
    disliked = set(page["seen"]) - liked
    assert liked <= set(page["seen"]) and disliked
    body = {"history": sorted(liked), "seen": page["seen"], "k": 50}
    got = {it["item_id"] for it in client.post("/recommendations", json=body).json()["items"]}
    assert got and not got & disliked


def test_settings_from_env_and_unknown_fields_rejected(monkeypatch, tmp_path):
    import pydantic
    import pytest

    from serving.settings import Settings

    monkeypatch.setenv("RECSYS_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("RECSYS_API_KEY", "k")
    monkeypatch.setenv("RECSYS_MAX_BODY_BYTES", "1234")
    s = Settings()
    assert (s.workspace, s.api_key, s.max_body_bytes) == (tmp_path, "k", 1234)
    with pytest.raises(pydantic.ValidationError):
        Settings(max_body_bytes=0)
    with pytest.raises(pydantic.ValidationError):
        Settings(no_such_setting=1)
