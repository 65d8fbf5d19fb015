"""`run_index` on a tiny workspace: real LanceDB table, real FAISS index, atomic publish."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from index.base import load_index
from recsys.app.publish import run_index
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from tests.helpers import write_vector_table


def fake_run(ws: Workspace, name: str) -> os.PathLike:
    """What `recsys train` leaves behind, minus the models (indexing does not read them)."""
    run = ws.artifacts_dir / name
    (run / "models").mkdir(parents=True)
    Run(run).mark_latest()
    return run


def index_only(ws: Workspace, **kwargs) -> str:
    """``run_index`` without precomputed answers: these fake runs have no models to rank with
    (the answers are tested over a trained run in tests/serving/test_answers.py)."""
    return run_index(ws, answer_ks=(), **kwargs)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.delenv("RECSYS_LANCEDB_URI", raising=False)
    return Workspace(tmp_path / "ws").ensure()


def test_index_from_item_text_publishes_current(ws, unit_vectors):
    ids = np.arange(100, 160, dtype=np.int64)
    vectors = unit_vectors(60, 16)
    write_vector_table(ws.lancedb_uri, "item_text", ids, vectors)
    run = fake_run(ws, "run-a")

    summary = index_only(ws)

    assert "faiss-flat over 60 items (dim 16) from item_text" in summary and "run-a" in summary
    link = ws.artifacts_dir / "current"
    assert link.is_symlink() and os.readlink(link) == "run-a"  # relative: workspace can move
    assert Run.current(ws.artifacts_dir).path == run.resolve()
    index = load_index(link / "index")
    found, _ = index.search(vectors[:3], k=1)
    np.testing.assert_array_equal(found[:, 0], ids[:3])
    manifest = json.loads((run / "index" / "manifest.json").read_text())
    assert manifest["lineage"]["source"] == "item_text" and manifest["lineage"]["run"] == "run-a"
    assert not [p for p in ws.artifacts_dir.iterdir() if p.name.startswith(".current")]


def test_hybrid_item_tower_preferred_and_republish_switches(ws, unit_vectors):
    write_vector_table(
        ws.lancedb_uri, "item_text", np.arange(10, dtype=np.int64), unit_vectors(10, 8)
    )
    fake_run(ws, "run-a")
    index_only(ws)
    assert os.readlink(ws.artifacts_dir / "current") == "run-a"
    run = fake_run(ws, "run-b")
    (run / "models" / "hybrid").mkdir()
    hybrid = unit_vectors(12, 5, seed=3)
    np.savez(run / "models" / "hybrid" / "item_vectors.npz", item_ids=np.arange(12), vectors=hybrid)

    summary = index_only(ws, kind="faiss-hnsw")

    assert "faiss-hnsw over 12 items (dim 5) from hybrid" in summary
    assert os.readlink(ws.artifacts_dir / "current") == "run-b"
    assert load_index((ws.artifacts_dir / "current") / "index").kind == "faiss-hnsw"


@pytest.fixture
def run_a(ws):
    return fake_run(ws, "run-a")


def test_no_vectors_tells_user_to_embed(ws, run_a):
    with pytest.raises(FileNotFoundError, match="recsys embed"):
        index_only(ws)
    assert not (ws.artifacts_dir / "current").exists()


def test_no_run_tells_user_to_train(ws):
    with pytest.raises(FileNotFoundError, match="recsys train"):
        index_only(ws)


def test_publish_refuses_to_clobber_a_real_directory(ws, run_a):
    (ws.artifacts_dir / "current").mkdir()
    with pytest.raises(FileExistsError, match="not a symlink"):
        Run(run_a).publish()


def test_bad_rows_are_skipped_and_recorded(ws, unit_vectors):
    ids = np.array([1, 2, 3, 3, 4], dtype=np.int64)
    vectors = unit_vectors(5, 8)
    vectors[1] = np.nan  # LanceDB refuses NaN vectors, so they can only come from an npz
    run = fake_run(ws, "run-a")
    (run / "models" / "hybrid").mkdir()
    np.savez(run / "models" / "hybrid" / "item_vectors.npz", item_ids=ids, vectors=vectors)

    summary = index_only(ws)

    assert "over 3 items" in summary and "2 bad rows skipped" in summary
    manifest = json.loads((run / "index" / "manifest.json").read_text())
    assert manifest["lineage"]["skipped"] == {"non_finite": [2], "duplicate": [3]}
    assert sorted(load_index(run / "index").ids().tolist()) == [1, 3, 4]


def test_reindexing_the_live_run_keeps_mapped_readers_valid(ws, unit_vectors):
    vectors = unit_vectors(30, 8)
    write_vector_table(ws.lancedb_uri, "item_text", np.arange(30, dtype=np.int64), vectors)
    fake_run(ws, "run-a")
    index_only(ws)
    live = load_index(
        (ws.artifacts_dir / "current") / "index", mmap=True
    )  # what a server replica holds
    index_only(ws, kind="faiss-hnsw")  # same run again: a forked run, the served one untouched
    np.testing.assert_array_equal(live.search(vectors[:2], k=1)[0][:, 0], [0, 1])
    assert load_index(ws.artifacts_dir / "current" / "index").kind == "faiss-hnsw"
    with pytest.raises(ValueError, match="unknown index kind"):
        index_only(ws, kind="annoy")
