"""Answers precomputed with a run: byte for byte what ranking returns, served only while valid."""

from __future__ import annotations

import json

import pytest

from recsys.core.runs import Run
from serving.answers import (
    answer_body,
    attach_answers,
    known_users,
    precompute,
    ranked_from,
    request_key,
    user_request,
    write_answers,
)
from serving.engine.answer_store import AnswerStore, write_answer_store
from tests.serving.workspace import clone_run

KS = (3, 5)


# ----------------------------------------------------------------------------- the store
def test_the_store_returns_each_body_by_its_key_and_nothing_else(tmp_path):
    answers = [(("user", i), f"body {i}".encode()) for i in range(50)]
    assert write_answer_store(tmp_path, answers, {"run": "r"}) == 50
    store = AnswerStore.open(tmp_path, {"run": "r"})
    assert store is not None and len(store) == 50
    assert [store.get(key) for key, _ in answers] == [body for _, body in answers]
    assert store.get(("user", 50)) is None and store.get(("user", -1)) is None


def test_a_store_ranked_from_other_facts_or_unfinished_is_not_opened(tmp_path):
    write_answer_store(tmp_path, [("a", b"1")], {"run": "r", "catalog": "c1"})
    assert AnswerStore.open(tmp_path, {"run": "r", "catalog": "c2"}) is None
    assert AnswerStore.open(tmp_path, {"run": "r", "catalog": "c1"}) is not None
    (tmp_path / "manifest.json").unlink()  # what a killed writer leaves
    assert AnswerStore.open(tmp_path, {"run": "r", "catalog": "c1"}) is None


def test_two_answers_for_one_key_are_refused(tmp_path):
    with pytest.raises(ValueError, match="one request key"):
        write_answer_store(tmp_path, [("a", b"1"), ("a", b"2")], {})


def test_an_empty_store_answers_nothing(tmp_path):
    write_answer_store(tmp_path, [], {"run": "r"})
    store = AnswerStore.open(tmp_path, {"run": "r"})
    assert store is not None and len(store) == 0 and store.get("a") is None


# ----------------------------------------------------------------------------- with a run
@pytest.fixture(scope="module")
def answered_run(serving_ws, encoders):
    """A copy of run-a whose known users' answers at ``KS`` were precomputed."""
    from serving.engine import RecommendationEngine

    run = clone_run(serving_ws, "run-a", "run-answered")
    engine = RecommendationEngine.load(serving_ws, encoders, run=run)
    written = write_answers(engine, KS)
    assert written == len(known_users(engine)) * len(KS) > 0
    return run


def test_the_reloaded_server_answers_known_users_from_the_run(
    client, settings, switch_run, answered_run
):
    switch_run(answered_run.name)
    assert client.post("/admin/reload", headers={"X-API-Key": settings.api_key}).status_code == 200
    path = "/users/40/recommendations"  # a user no test sends events for (they would rank)
    stored = client.get(path, params={"k": 3})
    assert stored.headers["x-cache"] == "precomputed"
    ranked = client.get(path, params={"k": 3}, headers={"Cache-Control": "no-cache"})
    assert ranked.headers["x-cache"] == "miss" and ranked.content == stored.content
    assert stored.json()["model_version"] == answered_run.name and stored.json()["items"]
    other = client.get(path, params={"k": 4})  # not a precomputed request: ranked, then kept
    assert other.headers["x-cache"] == "miss"
    assert client.get(path, params={"k": 4}).headers["x-cache"] == "hit"
    metrics = client.app.state.service.metrics.registry
    sample = metrics.get_sample_value
    assert sample("recsys_response_cache_lookups_total", {"outcome": "precomputed"}) == 1


def test_a_user_with_live_events_is_ranked_afresh(client, settings, switch_run, answered_run):
    switch_run(answered_run.name)
    auth = {"X-API-Key": settings.api_key}
    assert client.post("/admin/reload", headers=auth).status_code == 200
    path = "/users/41/recommendations"
    before = client.get(path, params={"k": 5})
    assert before.headers["x-cache"] == "precomputed"
    liked = before.json()["items"][0]["item_id"]
    event = {"user_id": 41, "item_id": liked, "kind": "rating", "rating": 5.0}
    assert client.post("/events", json={"events": [event]}, headers=auth).status_code == 200
    after = client.get(path, params={"k": 5})
    assert after.headers["x-cache"] == "miss"
    assert liked not in {it["item_id"] for it in after.json()["items"]}


def test_every_stored_answer_is_what_the_engine_ranks(serving_ws, encoders, answered_run):
    from serving.engine import RecommendationEngine

    engine = RecommendationEngine.load(serving_ws, encoders, run=answered_run)
    assert attach_answers(engine) == len(known_users(engine)) * len(KS)
    assert engine.answers is not None
    for key, body in precompute(engine, KS):
        assert engine.answers.get(key) == body


def test_answers_that_differ_from_ranking_or_other_data_are_not_served(
    serving_ws, encoders, answered_run
):
    from serving.engine import RecommendationEngine

    run = clone_run(serving_ws, "run-a", "run-tampered")
    engine = RecommendationEngine.load(serving_ws, encoders, run=run)
    wrong = [(key, b"{}") for key, _ in precompute(engine, (3,))]  # e.g. an older serialiser
    write_answer_store(run.answers_dir, wrong, {**ranked_from(engine), "ks": [3]})
    assert attach_answers(engine) == 0 and engine.answers is None

    engine = RecommendationEngine.load(serving_ws, encoders, run=answered_run)
    manifest = answered_run.answers_dir / "manifest.json"
    facts = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**facts, "catalog": "another catalog"}))
    try:
        assert attach_answers(engine) == 0 and engine.answers is None
    finally:
        manifest.write_text(json.dumps(facts))


def test_a_request_key_is_its_engine_call(engine):
    plain = user_request(engine, 40, [], [], k=3)
    assert request_key(plain) == request_key(user_request(engine, 40, [], [], k=3))
    assert request_key(plain) != request_key(user_request(engine, 40, [120], [], k=3))
    assert request_key(plain) != request_key(user_request(engine, 40, [], [], k=3, genre="x"))
    assert answer_body(40, plain()) == answer_body(40, plain())  # deterministic: keyable


def test_a_fork_of_a_run_leaves_its_answers_behind(answered_run):
    fork = Run.fork(answered_run)
    try:
        assert answered_run.answers_dir.is_dir() and not fork.answers_dir.exists()
    finally:
        import shutil

        shutil.rmtree(fork.path)
