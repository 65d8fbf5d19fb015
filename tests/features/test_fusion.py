"""Fusion known answers: masking + weight renormalisation, late dot = weighted similarity sum."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from features.fusion import FUSIONS, FusionConfig, create_fusion


def unit(x):
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture
def parts():
    rng = np.random.default_rng(0)
    return {"text": unit(rng.normal(size=(3, 6))), "image": unit(rng.normal(size=(3, 4)))}


def test_registry_has_every_config_kind():
    kinds = set(get_args(FusionConfig.model_fields["kind"].annotation))
    assert kinds == set(FUSIONS) == {"early", "late"}
    assert all(FUSIONS.get(k).name == k for k in kinds)  # version strings name the kind
    with pytest.raises(Exception, match="extra"):
        FusionConfig(kind="late", bogus=1)


def test_late_fusion_dot_is_weighted_similarity_sum(parts):
    fusion = create_fusion(FusionConfig(kind="late", weights={"text": 3.0, "image": 1.0}))
    masks = {m: np.ones(3, bool) for m in parts}
    fused = fusion.fuse(parts, masks)
    assert fused.shape == (3, 10)
    expected = (
        0.75 * parts["text"][0] @ parts["text"][1] + 0.25 * parts["image"][0] @ parts["image"][1]
    )
    assert fused[0] @ fused[1] == pytest.approx(expected, abs=1e-6)
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-6)


def test_missing_modality_is_masked_and_weights_renormalised(parts):
    fusion = create_fusion(FusionConfig(kind="late", weights={"text": 3.0, "image": 1.0}))
    masks = {"text": np.array([True, True, False]), "image": np.array([False, True, False])}
    fused = fusion.fuse(parts, masks)
    # Item 0 has no image: all weight goes to text, so its fused vector is text alone (+ zeros).
    np.testing.assert_allclose(fused[0, :4], 0.0)  # image block (sorted order: image, text)
    np.testing.assert_allclose(fused[0, 4:], parts["text"][0], atol=1e-6)
    assert fused[0] @ fused[1] == pytest.approx(np.sqrt(0.75) * parts["text"][0] @ parts["text"][1])
    np.testing.assert_allclose(fused[2], 0.0)  # nothing present -> zeros, caller skips


def test_early_fusion_is_deterministic_and_handles_missing(parts):
    config = FusionConfig(kind="early", weights={"text": 1.0, "image": 1.0}, dim=5, seed=3)
    masks = {"text": np.ones(3, bool), "image": np.array([True, False, True])}
    a = create_fusion(config).fuse(parts, masks)
    b = create_fusion(config).fuse(parts, masks)
    assert a.shape == (3, 5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    # Item 1's image is masked: changing it must not change its fused vector.
    other = {"text": parts["text"], "image": parts["image"][::-1].copy()}
    np.testing.assert_allclose(create_fusion(config).fuse(other, masks)[1], a[1], atol=1e-6)
