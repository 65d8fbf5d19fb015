"""The fusion job fuses chunk by chunk: same rows, hashes and errors as one whole pass."""

from __future__ import annotations

import numpy as np

from features.fusion import FusionConfig
from features.jobs.fuse import fuse_items
from features.store import FeatureStore


def _store(root, rng) -> FeatureStore:
    """text for items 1..12, image for the odd ones; item 13 has neither."""
    store = FeatureStore(str(root))
    for modality, ids, dim in (("text", range(1, 13), 6), ("image", range(1, 13, 2), 4)):
        ids = np.asarray(list(ids), np.int64)
        store.write(
            "item", modality, ids, rng.standard_normal((len(ids), dim)).astype(np.float32),
            encoder="test", encoder_version=f"{modality}-v1",
            content_hashes=[f"{modality}{i}" for i in ids], job_id="seed",
        )  # fmt: skip
        store.mark_complete("item", modality, f"{modality}-v1", "seed")
    return store


def test_chunked_fusion_equals_one_pass_and_reruns_skip(tmp_path):
    config = FusionConfig(weights={"text": 1.0, "image": 1.0})
    items = list(range(1, 14))
    whole = _store(tmp_path / "whole", np.random.default_rng(0))
    chunked = _store(tmp_path / "chunked", np.random.default_rng(0))  # the same vectors
    a = fuse_items(whole, items, config, "job-a", chunk=1000)
    b = fuse_items(chunked, items, config, "job-b", chunk=3)  # 5 chunks, one text-only
    expected = (12, 1, {13: "no modality vector to fuse"})  # 13 has no vector at all
    assert (a.encoded, a.failed, a.errors) == (b.encoded, b.failed, b.errors) == expected
    assert a.encoder_version == b.encoder_version
    ids_a, fused_a = whole.vectors("item", "fused")
    ids_b, fused_b = chunked.vectors("item", "fused")
    np.testing.assert_array_equal(ids_a, ids_b)
    np.testing.assert_allclose(fused_a, fused_b, rtol=1e-6)
    assert fused_b.shape == (12, 10)  # late fusion: text and image side by side
    version = b.encoder_version
    assert whole.latest_hashes("item", "fused", version) == chunked.latest_hashes(
        "item", "fused", version
    )
    again = fuse_items(chunked, items, config, "job-c", chunk=3)
    assert (again.encoded, again.skipped) == (0, 12)  # nothing changed: nothing re-fused
