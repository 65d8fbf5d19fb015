"""Chaos: `recsys train` / `recsys index` killed with SIGKILL never damage the served run.

Each child is a real CLI process killed by SIGKILL, either after a seeded random delay (where
it lands is chance: mostly while fitting or importing) or at a precise point by a fault hook
in the child (``_CHILD``) that kills the process itself there: halfway through writing the
run manifest or ``LATEST``, just before a rename, before a method runs. After every kill the
served run is untouched (``artifacts/current`` has the same target, every file of it the
same bytes), ``LATEST`` names a complete run, every listed run has a readable manifest, and
the next, unkilled command completes.

Loading damaged runs (no manifest, truncated manifest / arrays / ranker / titles) is covered
at the server: tests/serving/test_reload_heal.py::test_an_incomplete_run_is_never_swapped_in
(`POST /admin/reload` answers 409 and the old run keeps serving).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.base import load_index
from recsys.app.publish import run_index
from recsys.app.train import PIPELINE_CONFIG, run_train
from recsys.core.catalog import load_workspace_catalog
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from recsys.ranking import PIPELINE
from tests.helpers import write_vector_table

pytestmark = pytest.mark.slow

# Seconds, not minutes, per train on 2 shared cores: one EASE λ, one ranker objective, no tower.
CHAOS_PIPELINE = {
    "ease_lambdas": [500.0],
    "objectives": ["rank:ndcg"],
    "cold_requests": False,
    "n_estimators": 40,
    "early_stopping_rounds": 10,
    "fresh_slots": 0,
    "min_child_weight": 1.0,
    "als_factors": 8,
}

# The child: install the fault named by CHAOS_POINT, then run the CLI with argv.
_CHILD = r"""
import os, signal, sys
from pathlib import Path, PurePath

point = os.environ.get("CHAOS_POINT", "")
kind, _, arg = point.partition(":")

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if kind == "half-write":  # the first write to a matching path stops halfway
    real_write = Path.write_text
    def write_text(self, data, *args, **kwargs):
        if PurePath(self).match(arg):
            with open(self, "w") as f:
                f.write(data[: len(data) // 2])
            die()
        return real_write(self, data, *args, **kwargs)
    Path.write_text = write_text
elif kind == "before-replace":  # die just before a rename onto a path of that name
    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if os.path.basename(os.fspath(dst)) == arg:
            die()
        return real_replace(src, dst, *args, **kwargs)
    os.replace = replace
elif kind == "before-call":  # module:Class.method
    import importlib
    module, _, attr = arg.partition(":")
    owner, _, method = attr.partition(".")
    setattr(getattr(importlib.import_module(module), owner), method, lambda *a, **k: die())

from recsys.app.cli import main
sys.argv = ["recsys", *sys.argv[1:]]
main()
"""


def _env(point: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSYS_")}
    # one thread each: the box is small and shared
    return {**env, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "CHAOS_POINT": point}


def _child(ws: Workspace, args: list[str], point: str = "") -> subprocess.Popen:
    cmd = [sys.executable, "-c", _CHILD, "--workspace", str(ws.root), *args]
    return subprocess.Popen(
        cmd, env=_env(point), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _run_to_end(
    ws: Workspace, args: list[str], point: str = "", timeout: float = 600
) -> int | None:
    proc = _child(ws, args, point)
    out, _ = proc.communicate(timeout=timeout)
    if point == "":
        assert proc.returncode == 0, out
    return proc.returncode


def _kill_after(ws: Workspace, args: list[str], delay: float, timeout: float = 600) -> int | None:
    """SIGKILL the child ``delay`` seconds after its start (it may have finished by then)."""
    proc = _child(ws, args)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=timeout)
    return proc.returncode


def _files(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones included) -> sha256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


Served = tuple[str, dict[str, str]]  # the target of artifacts/current, its files' hashes


def _served(ws: Workspace) -> Served:
    link = ws.artifacts_dir / "current"
    return os.readlink(link), _files(link.resolve())


def _check(
    ws: Workspace, served: Served, rc: int | None, note: str, publishes: bool = False
) -> Served:
    """The served run untouched, LATEST and every listed run complete and readable.

    ``rc`` is the child's exit status (None: no child); 0 means it finished before the kill,
    and a finished ``publishes`` command (`recsys index`) has published LATEST: that is the
    served run from then on. Returns what is served now.
    """
    if rc == 0 and publishes:
        served, latest = _served(ws), Run.latest(ws.artifacts_dir)
        assert latest is not None and served[0] == latest.name, f"{note}: finished, unpublished"
    assert rc in (None, 0, -signal.SIGKILL), f"{note}: exit status {rc}"
    assert _served(ws) == served, f"{note}: the served run changed"
    latest = Run.latest(ws.artifacts_dir)
    assert latest is not None, f"{note}: LATEST lost"
    assert latest.path.parent == ws.artifacts_dir, f"{note}: LATEST names {latest.path}"
    assert latest.has_model(PIPELINE), f"{note}: LATEST names an incomplete run"
    for run in Run.list(ws.artifacts_dir):
        assert isinstance(json.loads((run.path / "manifest.json").read_text()), dict), note
    if (latest.index_dir / "manifest.json").exists():  # what `recsys index` could publish
        assert load_index(latest.index_dir).count > 0, note
    return served


@pytest.fixture(scope="module")
def served_template(_tiny_preprocessed, tmp_path_factory) -> Workspace:
    """Tiny workspace: canonical data, an item_text table, one run trained, indexed, served."""
    ws = Workspace(tmp_path_factory.mktemp("chaos") / "ws").ensure()
    shutil.copytree(_tiny_preprocessed.data_dir, ws.data_dir, dirs_exist_ok=True)
    ids = load_workspace_catalog(ws).items["item_id"].to_numpy()
    vectors = np.random.default_rng(0).normal(size=(len(ids), 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    write_vector_table(ws.lancedb_uri, "item_text", ids, vectors)
    (ws.root / PIPELINE_CONFIG).write_text(json.dumps(CHAOS_PIPELINE))
    run_train(ws, log=lambda _: None)
    run_index(ws)
    return ws


@pytest.fixture
def ws(served_template, tmp_path, monkeypatch) -> Workspace:
    monkeypatch.delenv("RECSYS_LANCEDB_URI", raising=False)
    root = tmp_path / "ws"
    shutil.copytree(served_template.root, root, symlinks=True)
    return Workspace(root)


TRAIN_FAULTS = [
    "before-call:recsys.core.runs:Run.write_manifest",  # models written, no run manifest
    "half-write:artifacts/*/*manifest.json*",  # the run manifest half written
    "before-call:recsys.core.runs:Run.mark_latest",  # complete run, LATEST not moved yet
    "half-write:artifacts/*LATEST*",  # LATEST half written
]


def test_killed_train_leaves_the_served_run_and_the_next_train_completes(ws):
    served = _served(ws)
    for seed in (0, 1, 2):
        delay = random.Random(seed).uniform(1.0, 15.0)
        rc = _kill_after(ws, ["train"], delay)
        _check(ws, served, rc, f"train killed after {delay:.1f}s (seed {seed})")
    for point in TRAIN_FAULTS:
        rc = _run_to_end(ws, ["train"], point)
        assert rc == -signal.SIGKILL, f"{point}: the fault never fired (rc {rc})"
        _check(ws, served, rc, f"train killed at {point}")

    before = Run.latest(ws.artifacts_dir)
    _run_to_end(ws, ["train"])
    latest = Run.latest(ws.artifacts_dir)
    assert latest is not None and latest != before and latest.manifest()["run_id"] == latest.name
    _check(ws, served, None, "after a completed train")
    _run_to_end(ws, ["index"])
    assert os.readlink(ws.artifacts_dir / "current") == latest.name
    assert load_index(ws.artifacts_dir / "current" / "index").count > 0


INDEX_FAULTS = [
    "before-replace:manifest.json",  # the index file in place, its manifest not yet
    "half-write:artifacts/*LATEST*",  # (re-indexing the served run marks its fork latest)
    "before-call:recsys.core.runs:Run.publish",  # indexed, not yet published
]


@pytest.mark.parametrize("served_is_latest", [True, False], ids=["reindex-served", "new-run"])
def test_killed_index_leaves_the_served_run_and_the_next_index_completes(ws, served_is_latest):
    """Re-indexing the served run (another kind), or indexing a newly trained one."""
    if not served_is_latest:
        run_train(ws, log=lambda _: None)
    served = first = _served(ws)
    args = ["index", "--kind", "faiss-hnsw"]
    for seed in (0, 1):
        delay = random.Random(seed).uniform(1.0, 5.0)
        rc = _kill_after(ws, args, delay)
        note = f"index killed after {delay:.1f}s (seed {seed})"
        served = _check(ws, served, rc, note, publishes=True)
    for point in INDEX_FAULTS:
        rc = _run_to_end(ws, args, point)
        if served_is_latest or not point.startswith("half-write"):  # else no LATEST write
            assert rc == -signal.SIGKILL, f"{point}: the fault never fired (rc {rc})"
        served = _check(ws, served, rc, f"index killed at {point}", publishes=True)

    _run_to_end(ws, args)
    current, latest = ws.artifacts_dir / "current", Run.latest(ws.artifacts_dir)
    assert latest is not None and os.readlink(current) == latest.name
    index = load_index(current / "index")
    assert index.kind == "faiss-hnsw" and index.count == len(load_workspace_catalog(ws).items)
    assert json.loads((current / "manifest.json").read_text())["run_id"] == os.readlink(current)
    assert _files(ws.artifacts_dir / first[0]) == first[1]  # a published run is never rewritten
