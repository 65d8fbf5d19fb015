"""ServiceState after an install: its engine frozen out of full collections, the old one freed."""

from __future__ import annotations

import gc
import weakref

from fastapi.testclient import TestClient

from serving.app import create_app
from serving.state import freeze_heap


def _tracked(obj: object) -> bool:
    """Whether a collection would walk ``obj`` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


def test_the_installed_engine_is_frozen_out_of_collections(client):
    engine = client.app.state.service.engine
    assert gc.get_freeze_count() > 0
    assert not _tracked(engine.snap) and not _tracked(engine.snap.histories.liked)
    assert _tracked([])  # what requests allocate afterwards is collected as usual


def test_nothing_keeps_the_previous_engine_after_a_reload(settings, switch_run):
    auth = {"X-API-Key": settings.api_key}
    with TestClient(create_app(settings)) as client:
        assert client.post("/admin/reload", headers=auth).status_code == 200
        old = weakref.ref(client.app.state.service.engine)
        assert client.get("/users/1/recommendations").status_code == 200
        switch_run("run-b")
        assert client.post("/admin/reload", headers=auth).json()["model_version"] == "run-b"
        assert old() is None, gc.get_referrers(old())


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_a_frozen_cycle_is_freed_by_the_next_freeze():
    node = _Node()
    ref = weakref.ref(node)
    freeze_heap()  # node is frozen now, as an engine is after its install
    del node
    freeze_heap()  # the next install: the previous engine's cycles must not stay frozen
    assert ref() is None
