"""Chaos: `recsys embed` killed with SIGKILL at random points, re-run, equals a clean run.

Real encoders in a real subprocess, on a small synthetic workspace embedded once completely,
then re-embedded under a new text encoder version and killed mid-way: reads keep the complete
old version until the re-run completes the new one. The modality set is text + ratings (+
fusion): real MiniLM, chunks of 4 rows so a kill can land between many commits. Posters and
trailers are left out on purpose: EfficientNet and the video encoder make one run take minutes
on a shared CPU, and they go through the very same runner (chunk commits, completion records)
as text.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from features.store import FeatureStore
from recsys.core.workspace import Workspace

pytestmark = pytest.mark.slow

MODALITIES = "text,ratings"
CHUNK = 4
KEY = ["id", "encoder_version", "content_hash"]


def workspace(root: Path) -> Workspace:
    from recsys.datasets.preprocess import preprocess
    from recsys.datasets.synthetic import SynthConfig, generate

    raw = root / "raw"
    generate(SynthConfig(items=24, users=12, interactions=300, seed=0, media=False), raw)
    ws = Workspace(root / "ws").ensure()
    preprocess(raw, ws)
    configure(ws)
    return ws


def configure(ws: Workspace, max_seq_length: int = 128) -> None:
    """Chunks of 4 rows; ``max_seq_length`` is part of MiniLM's version: a new one re-embeds."""
    options = {"text": {"max_seq_length": max_seq_length}}
    config = {"chunk_size": CHUNK, "batch_size": CHUNK, "encoder_options": options}
    (ws.root / "embed.json").write_text(json.dumps(config))


def command(ws: Workspace) -> list[str]:
    return [sys.executable, "-m", "recsys.app.cli", "embed", "-w", str(ws.root),
            "--modalities", MODALITIES]  # fmt: skip


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RECSYS_LANCEDB_URI"}
    # One torch thread: the job shares two cores with the test process polling the store.
    return {**env, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


def run_to_end(ws: Workspace) -> None:
    done = subprocess.run(command(ws), env=environment(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


Tables = dict[str, tuple[str, np.ndarray, np.ndarray]]


def tables(ws: Workspace) -> Tables:
    """Per feature table: (default encoder version, ids, vectors), after checking its rows."""
    store = FeatureStore(ws.lancedb_uri)
    out = {}
    for name in store.table_names():
        entity, modality = name.split("_", 1)
        rows = store.read(name, columns=KEY)
        assert rows.height == rows.unique(KEY).height, f"{name} holds a row twice"
        version = store.latest_encoder_version(entity, modality)
        assert store.complete_versions(entity, modality)[:1] == [version], name
        out[name] = (version, *store.vectors(entity, modality))
    return out


def assert_same(got: Tables, expected: Tables, label: str) -> None:
    assert set(got) == set(expected), label
    for name, (version, ids, vectors) in expected.items():
        assert got[name][0] == version, (label, name)
        np.testing.assert_array_equal(got[name][1], ids, err_msg=f"{label} {name}")
        # The runs batch different rows together (a re-run encodes what is missing): float noise.
        np.testing.assert_allclose(got[name][2], vectors, atol=1e-5, err_msg=f"{label} {name}")


def text_rows(ws: Workspace) -> int:
    store = FeatureStore(ws.lancedb_uri)
    return store.read("item_text", columns=["id"]).height if store.has("item", "text") else 0


def kill_at(ws: Workspace, rows: int, delay: float) -> int:
    """Start the job, SIGKILL it ``delay`` s after ``rows`` item_text rows are committed."""
    proc = subprocess.Popen(command(ws), env=environment(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline and text_rows(ws) < rows:
        time.sleep(0.05)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    return proc.wait()


def test_kill_9_at_random_points_then_rerun_equals_a_clean_run(tmp_path):
    # Every workspace starts from one complete run (MiniLM @seq128), then re-embeds at @seq64.
    base = workspace(tmp_path / "base")
    run_to_end(base)
    before = tables(base)
    n_text = len(before["item_text"][1])
    clean = Workspace(shutil.copytree(base.root, tmp_path / "clean" / "ws"))
    configure(clean, max_seq_length=64)
    run_to_end(clean)
    expected = tables(clean)
    assert set(expected) == {"item_text", "item_ratings", "user_ratings", "item_fused"}
    assert expected["item_text"][0] != before["item_text"][0]  # a new encoder version

    for seed in (0, 1, 2):
        rng = np.random.default_rng(seed)
        # Kill between chunk commits of the new version, at least two chunks before its end,
        # so the job is still running whatever this machine's speed.
        rows = n_text + int(rng.integers(1, n_text - 2 * CHUNK + 1))
        ws = Workspace(shutil.copytree(base.root, tmp_path / f"killed-{seed}" / "ws"))
        configure(ws, max_seq_length=64)
        status = kill_at(ws, rows, delay=float(rng.uniform(0, 0.2)))
        assert status == -signal.SIGKILL, f"seed {seed}: the job ended before the kill"
        assert n_text < text_rows(ws) < 2 * n_text, f"seed {seed}: the kill must land mid-job"
        # Half re-embedded: every read still gets the complete old version, for every item.
        assert_same(tables(ws), before, f"seed {seed} after the kill")

        run_to_end(ws)

        assert_same(tables(ws), expected, f"seed {seed} after the re-run")
