"""Serving fixtures: one tiny but real workspace and one loaded engine for the whole suite.

The workspace (tests/serving/workspace.py) pins its own known answers: each user loves one genre.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from recsys.core.runs import Run
from recsys.core.settings import offline_hub
from serving.process import served
from tests.serving.workspace import build_workspace, clone_run

offline_hub()  # the encoders below load before any app (which would call it) is created

# ----------------------------------------------------------------------------- fixtures
API_KEY = "test-secret"
LIVE_API_KEY = "live-secret"  # what the `recsys serve` processes below are started with


@pytest.fixture(scope="session")
def encoders():
    from serving.engine import EncoderPool

    return EncoderPool("minilm", device="cpu")


@pytest.fixture(scope="session")
def serving_ws(tmp_path_factory, encoders):
    return build_workspace(tmp_path_factory.mktemp("serving-ws"), encoders.embed_text)


@pytest.fixture(scope="session")
def engine(serving_ws, encoders):
    from serving.engine import RecommendationEngine

    return RecommendationEngine.load(serving_ws, encoders)


@pytest.fixture()
def settings(serving_ws):
    from serving.settings import Settings

    return Settings(workspace=serving_ws.root, api_key=API_KEY, reload_poll_seconds=0)


@pytest.fixture()
def client(settings, engine):
    from fastapi.testclient import TestClient

    from serving.app import create_app

    with TestClient(create_app(settings, engine=engine)) as c:
        yield c


@pytest.fixture()
def switch_run(serving_ws):
    """``switch_run(name, broken=False)`` publishes a copy of run-a (or an empty, broken run);
    run-a is current again after the test."""

    def switch(name: str, broken: bool = False) -> Run:
        run = Run(serving_ws.artifacts_dir / name)
        if broken:  # a run without models: loading it must fail
            run.path.mkdir(parents=True, exist_ok=True)
        elif not run.path.exists():
            clone_run(serving_ws, "run-a", name)
        run.publish()
        return run

    yield switch
    Run(serving_ws.artifacts_dir / "run-a").publish()


# ----------------------------------------------------------------------------- live servers
@contextmanager
def _live(root: Path, tmp_path_factory, **env: str) -> Iterator[str]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {"RECSYS_API_KEY": LIVE_API_KEY, "RECSYS_DEVICE": "cpu", **env}
    with served(root, log, env) as base:
        yield base


@pytest.fixture(scope="module")
def server(serving_ws, tmp_path_factory):
    """`recsys serve` on the suite's workspace, user pages public (the web page lists users).

    Tests on it only read: its workspace is the one every other test shares.
    """
    with _live(serving_ws.root, tmp_path_factory, RECSYS_PUBLIC_USER_PAGES="1") as base:
        yield base


@pytest.fixture(scope="module")
def scratch_server(serving_ws, tmp_path_factory):
    """`recsys serve` with default settings on a copy of the workspace, for tests that write
    (events are logged and replayed at the next load, which would leak into other tests)."""
    root = tmp_path_factory.mktemp("scratch-ws") / "ws"
    shutil.copytree(serving_ws.root, root, symlinks=True, ignore=shutil.ignore_patterns("events"))
    with _live(root, tmp_path_factory) as base:
        yield base
