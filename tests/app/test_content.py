"""The hybrid ranker's one reader of content vectors: fused first, text as fallback, masks."""

from __future__ import annotations

import numpy as np

from recsys.app.content import load_item_content, load_user_text
from recsys.core.workspace import Workspace


def _write(ws: Workspace, entity: str, modality: str, ids, dim: int) -> np.ndarray:
    from features.store import FeatureStore

    vectors = np.random.default_rng(0).normal(size=(len(ids), dim)).astype(np.float32)
    FeatureStore(ws.lancedb_uri).write(
        entity, modality, np.asarray(ids), vectors, encoder="test", encoder_version="t-1",
        content_hashes=[str(i) for i in ids], job_id="job-0",
    )  # fmt: skip
    return vectors


def test_no_store_means_id_only_and_no_store_is_created(tmp_path):
    ws = Workspace(tmp_path)
    lineage: dict = {}
    content, mask = load_item_content(ws, np.array([1, 2, 3]), lineage)
    assert content.shape == (3, 1) and not mask.any() and lineage["item_content"] is None
    assert load_user_text(ws) is None
    assert not (tmp_path / "lancedb").exists()


def test_text_fallback_then_fused_preferred_with_masks(tmp_path):
    ws = Workspace(tmp_path)
    text = _write(ws, "item", "text", [3, 1], 4)
    lineage: dict = {}
    content, mask = load_item_content(ws, np.array([1, 2, 3]), lineage)
    assert lineage["item_content"] == "item_text"
    assert mask.tolist() == [True, False, True]
    np.testing.assert_allclose(content[0], text[1])
    np.testing.assert_allclose(content[2], text[0])
    assert np.all(content[1] == 0)

    fused = _write(ws, "item", "fused", [1, 2, 3], 6)
    lineage = {}
    content, mask = load_item_content(ws, np.array([1, 2, 3]), lineage)
    assert lineage["item_content"] == "item_fused" and mask.all() and content.shape == (3, 6)
    np.testing.assert_allclose(content, fused)
    assert lineage["item_fused"]["encoder_version"] == "t-1"

    users = _write(ws, "user", "history_text", [7], 5)
    ids, vectors = load_user_text(ws)
    assert ids.tolist() == [7]
    np.testing.assert_allclose(vectors, users)
