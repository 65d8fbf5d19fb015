"""Kept recommendation answers: the same bytes as ranking, dropped whenever ranking would differ."""

from __future__ import annotations

from fastapi.testclient import TestClient

from serving.app import create_app
from serving.response_cache import ResponseCache

ENGINE, NEWER = object(), object()  # the cache only compares engines by identity


def _cache(max_bytes: int = 100) -> ResponseCache:
    cache = ResponseCache(max_bytes)
    cache.replace_engine(ENGINE)
    return cache


def test_kept_answer_is_returned_for_its_key_only():
    cache = _cache()
    cache.put(ENGINE, ("user", 1), b"one")
    assert cache.get(ENGINE, ("user", 1)) == b"one"
    assert cache.get(ENGINE, ("user", 2)) is None


def test_least_recently_used_answers_go_first_within_the_byte_bound():
    cache = _cache(max_bytes=10)
    cache.put(ENGINE, "a", b"aaaa")
    cache.put(ENGINE, "b", b"bbbb")
    assert cache.get(ENGINE, "a") == b"aaaa"  # now "b" is the least recently used
    cache.put(ENGINE, "c", b"cccc")
    assert cache.get(ENGINE, "b") is None
    assert (cache.get(ENGINE, "a"), cache.get(ENGINE, "c")) == (b"aaaa", b"cccc")
    cache.put(ENGINE, "a", b"a")  # replacing an answer counts its new size only
    cache.put(ENGINE, "d", b"dddd")
    assert len(cache) == 3


def test_an_answer_larger_than_the_bound_or_a_zero_bound_keeps_nothing():
    cache = _cache(max_bytes=3)
    cache.put(ENGINE, "a", b"four")
    assert cache.get(ENGINE, "a") is None
    off = _cache(max_bytes=0)
    off.put(ENGINE, "a", b"")
    off.put(ENGINE, "b", b"x")
    assert off.get(ENGINE, "a") is None and off.get(ENGINE, "b") is None and len(off) == 0


def test_a_new_engine_drops_every_answer_and_late_answers_of_the_old_one():
    cache = _cache()
    cache.put(ENGINE, "a", b"old")
    cache.replace_engine(NEWER)
    assert cache.get(NEWER, "a") is None
    cache.put(ENGINE, "a", b"old")  # a request that started before the swap finishes late
    assert cache.get(NEWER, "a") is None
    assert cache.get(ENGINE, "a") is None  # nor is it served to requests still on the old one
    cache.put(NEWER, "a", b"new")
    assert cache.get(NEWER, "a") == b"new"


# ----------------------------------------------------------------------------- the routes
def test_a_repeated_request_is_a_hit_with_the_ranked_bytes(client):
    path, params = "/users/1/recommendations", {"k": 5}
    first = client.get(path, params=params)
    second = client.get(path, params=params)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert first.content == second.content and first.json()["items"]
    fresh = client.get(path, params=params, headers={"Cache-Control": "no-cache"})
    assert fresh.headers["x-cache"] == "miss" and fresh.content == first.content
    other = client.get(path, params={"k": 5, "diversity": 0.5})
    assert other.headers["x-cache"] == "miss"


def test_anonymous_bodies_are_kept_by_what_they_ask(client):
    body = {"history": [120, 121], "k": 4}
    first = client.post("/recommendations", json=body)
    again = client.post("/recommendations", json=body)
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert first.content == again.content
    seen = client.post(
        "/recommendations", json={**body, "seen": [first.json()["items"][0]["item_id"]]}
    )
    assert seen.headers["x-cache"] == "miss" and seen.content != first.content


def test_no_store_neither_reads_nor_keeps(client):
    path = "/users/2/recommendations"
    assert client.get(path, headers={"Cache-Control": "no-store"}).headers["x-cache"] == "miss"
    assert client.get(path).headers["x-cache"] == "miss"
    assert client.get(path).headers["x-cache"] == "hit"


def test_a_new_event_for_the_user_is_ranked_afresh(client, settings):
    path = "/users/3/recommendations"
    before = client.get(path, params={"k": 3})
    assert client.get(path, params={"k": 3}).headers["x-cache"] == "hit"
    liked = before.json()["items"][0]["item_id"]
    event = {"user_id": 3, "item_id": liked, "kind": "rating", "rating": 5.0}
    auth = {"X-API-Key": settings.api_key}
    assert client.post("/events", json={"events": [event]}, headers=auth).status_code == 200
    after = client.get(path, params={"k": 3})
    assert after.headers["x-cache"] == "miss"
    assert liked not in {it["item_id"] for it in after.json()["items"]}  # now seen


def test_a_reload_drops_the_answers_of_the_previous_run(client, settings, switch_run):
    path = "/users/1/recommendations"
    client.get(path)
    assert client.get(path).headers["x-cache"] == "hit"
    switch_run("run-b")
    r = client.post("/admin/reload", headers={"X-API-Key": settings.api_key})
    assert r.status_code == 200, r.text
    answer = client.get(path)
    assert answer.headers["x-cache"] == "miss" and answer.json()["model_version"] == "run-b"


def test_the_cache_is_off_with_a_zero_budget(settings, engine):
    off = settings.model_copy(update={"response_cache_mb": 0})
    with TestClient(create_app(off, engine=engine)) as client:
        path = "/users/1/recommendations"
        assert [client.get(path).headers["x-cache"] for _ in range(2)] == ["miss", "miss"]
    metrics = client.app.state.service.metrics.registry
    assert metrics.get_sample_value("recsys_response_cache_lookups_total", {"outcome": "miss"}) == 2
