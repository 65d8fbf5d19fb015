"""Loads that fail are retried until they heal; an incomplete run or store is never swapped in."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time

import pytest
from fastapi.testclient import TestClient

from features.store import FeatureStore
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from serving.app import create_app
from serving.metrics import Metrics
from serving.settings import Settings
from serving.state import (
    Backoff,
    IncompleteRunError,
    IncompleteStoreError,
    ServiceState,
    StoreUnavailableError,
)
from tests.serving.conftest import API_KEY
from tests.serving.workspace import clone_run


@pytest.fixture
def private_ws(serving_ws, tmp_path) -> Workspace:
    """A copy of the suite's workspace: these tests break its data, store and runs."""
    root = tmp_path / "ws"
    ignore = shutil.ignore_patterns("media", "events")
    shutil.copytree(serving_ws.root, root, symlinks=True, ignore=ignore)
    return Workspace(root)


def _settings(ws: Workspace, **extra) -> Settings:
    return Settings(workspace=ws.root, api_key=API_KEY, **{"reload_poll_seconds": 0, **extra})


def _wait(predicate, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while not predicate():
        assert time.time() < deadline, "condition never became true"
        time.sleep(0.05)


def test_a_failed_start_heals_once_the_data_is_back(private_ws, encoders):
    """`preprocess` swapping data/ while the service starts: not ready, then ready by itself."""
    data = private_ws.data_dir
    os.replace(data, data.with_name("data.swapping"))
    app = create_app(_settings(private_ws, reload_poll_seconds=0.05), encoders=encoders)
    state = app.state.service
    state.backoff = Backoff(first=0.05, cap=0.2)
    with TestClient(app) as client:
        _wait(lambda: state.failure is not None)
        body = client.get("/ready").json()
        assert body["status"] == "error" and "no canonical dataset in data" in body["error"]
        assert str(private_ws.root) not in body["error"]  # no filesystem paths for clients
        os.replace(data.with_name("data.swapping"), data)
        _wait(lambda: client.get("/ready").status_code == 200)
        assert client.get("/users/1/recommendations").json()["model_version"] == "run-a"
        assert client.get("/ready").json()["status"] == "ready" and state.load_error is None


def test_retries_back_off_and_stop_when_the_target_changes(private_ws, engine, encoders):
    state = ServiceState(_settings(private_ws), Metrics(), encoders)
    state.install(engine)
    broken = Run(private_ws.artifacts_dir / "run-empty")
    broken.path.mkdir()
    broken.publish()
    state.reload_if_changed()
    assert state.failure is not None and state.failure.attempts == 1
    state.reload_if_changed()  # not due yet: no second attempt
    assert state.failure.attempts == 1
    for attempt, delay in ((2, 2.0), (3, 4.0)):
        state.failure = dataclasses.replace(state.failure, retry_at=0.0)  # due now
        state.reload_if_changed()
        assert state.failure.attempts == attempt
        assert state.failure.retry_at - time.monotonic() == pytest.approx(delay, abs=0.5)
    assert [Backoff().delay(a) for a in (1, 2, 6, 7, 20)] == [1.0, 2.0, 32.0, 60.0, 60.0]
    assert state.engine is engine  # never swapped out meanwhile
    Run(private_ws.artifacts_dir / "run-a").publish()  # the operator switches back
    state.reload_if_changed()
    assert state.failure is None and state.engine.snap.run.name == "run-a"


def _drop_manifest(run: Run) -> None:
    (run.path / "manifest.json").unlink()


def _truncate(relative: str):
    """Cut the file at ``relative`` in half; a folder: its largest file (an array's .npy)."""

    def cut(run: Run) -> None:
        path = run.path / relative
        if path.is_dir():
            path = max(path.iterdir(), key=lambda p: p.stat().st_size)
        os.truncate(path, path.stat().st_size // 2)

    return cut


@pytest.mark.parametrize(
    "damage",
    [
        _drop_manifest,
        _truncate("manifest.json"),
        _truncate("models/pipeline/stage1/arrays"),
        _truncate("models/pipeline/ranker_warm/ranker.json"),
        _truncate("models/pipeline/titles.json"),
    ],
    ids=["no-manifest", "manifest", "stage1-array", "ranker-json", "titles"],
)
def test_an_incomplete_run_is_never_swapped_in(private_ws, engine, encoders, damage):
    app = create_app(_settings(private_ws), engine=engine)
    state = app.state.service
    run = clone_run(private_ws, "run-a", "run-partial")
    damage(run)
    run.publish()
    with TestClient(app) as client:
        r = client.post("/admin/reload", headers={"X-API-Key": API_KEY})
        assert r.status_code == 409
        assert isinstance(state.failure.error, IncompleteRunError)
        assert "run-partial" in state.load_error and "/" not in state.load_error
        assert state.engine is engine
        assert client.get("/users/1/recommendations").json()["model_version"] == "run-a"
        assert "recsys_engine_load_failing 1.0" in client.get("/metrics").text
        ready = client.get("/ready").json()  # still ready, and says what failed
        assert ready["status"] == "ready" and "run-partial" in ready["last_reload_error"]


def test_a_missing_store_is_never_served_as_an_engine_without_vectors(private_ws, encoders):
    """An unmounted or vanished store must not give an engine with no vectors and /ready 200."""
    gone = private_ws.root / "store-not-mounted"
    app = create_app(_settings(private_ws, lancedb_uri=str(gone)), encoders=encoders)
    with TestClient(app) as client:
        state = app.state.service
        _wait(lambda: state.failure is not None or state.engine is not None)
        assert state.engine is None and isinstance(state.failure.error, IncompleteStoreError)
        body = client.get("/ready")
        assert body.status_code == 503
        assert "item_image, item_text" in body.json()["error"]


def test_a_store_read_error_fails_the_load(private_ws, engine, encoders, monkeypatch):
    def unreachable(*args, **kwargs):
        raise RuntimeError("lance error: LanceError(IO): connection reset by peer")

    state = ServiceState(_settings(private_ws), Metrics(), encoders)
    state.install(engine)
    # every load asks the store for its tables' states (vectors come from the cache or a reuse)
    monkeypatch.setattr(FeatureStore, "read_state", unreachable)
    assert state.reload() is None
    assert isinstance(state.failure.error, StoreUnavailableError)
    assert "connection reset" in state.load_error
    assert state.engine is engine
    monkeypatch.undo()  # the store is back: the next due retry heals
    state.failure = dataclasses.replace(state.failure, retry_at=0.0)
    state.reload_if_changed()
    assert state.failure is None and state.engine is not engine
