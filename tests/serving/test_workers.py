"""`recsys serve --workers 2`: two processes on one port, each reloading and following events.

A fresh connection per request lets the kernel hand it to either worker, so "every one of
30 requests" covers both workers with near certainty (a miss would need 30 picks in a row
of the same worker: 2 x 0.5^30).
"""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from recsys.core.runs import Run
from serving.process import served
from tests.serving.conftest import LIVE_API_KEY
from tests.serving.workspace import clone_run

FRESH = 30  # requests, each on a new connection


@pytest.fixture(scope="module")
def two_workers(serving_ws, tmp_path_factory):
    root = tmp_path_factory.mktemp("workers-ws") / "ws"
    shutil.copytree(serving_ws.root, root, symlinks=True, ignore=shutil.ignore_patterns("events"))
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {"RECSYS_API_KEY": LIVE_API_KEY, "RECSYS_DEVICE": "cpu"}
    env["RECSYS_RELOAD_POLL_SECONDS"] = "0.2"
    with served(root, log, env, timeout=300, args=["--workers", "2"]) as base:
        yield base, root, log


def _fresh(base: str, path: str) -> list[dict]:
    out = []
    for _ in range(FRESH):
        with httpx.Client(base_url=base, timeout=60) as c:  # a new connection each time
            r = c.get(path)
            assert r.status_code == 200, r.text
            out.append(r.json())
    return out


def _wait_all(base: str, path: str, ok, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        bodies = _fresh(base, path)
        if all(ok(b) for b in bodies) or time.monotonic() > deadline:
            return bodies
        time.sleep(0.3)


def test_two_worker_processes_answer_on_one_port(two_workers):
    base, _, log = two_workers
    pids = {int(line.split("[")[1].split("]")[0]) for line in log.read_text().splitlines()
            if "Started server process" in line}  # fmt: skip
    assert len(pids) == 2, log.read_text()
    assert all(b["items"] for b in _fresh(base, "/users/1/recommendations?k=3"))


def test_an_event_accepted_by_one_worker_reaches_the_other(two_workers):
    base, _, _ = two_workers
    user = 7001  # not in the catalog: cold until its events arrive
    events = [{"user_id": user, "item_id": i, "kind": "rating", "rating": 5.0} for i in (120, 121)]
    r = httpx.post(f"{base}/events", json={"events": events}, headers={"X-API-Key": LIVE_API_KEY})
    assert r.status_code == 200 and r.json()["accepted"] == 2
    bodies = _wait_all(base, f"/users/{user}/recommendations?k=3", lambda b: not b["cold_start"])
    assert not any(b["cold_start"] for b in bodies)


def test_a_new_run_is_picked_up_by_every_worker(two_workers):
    base, root, _ = two_workers
    from recsys.core.workspace import Workspace

    clone_run(Workspace(root), "run-a", "run-w")
    Run(root / "artifacts" / "run-w").publish()
    bodies = _wait_all(base, "/version", lambda b: b["model_version"] == "run-w")
    assert {b["model_version"] for b in bodies} == {"run-w"}
