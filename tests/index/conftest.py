"""Tiny known-answer data for the index tests: clustered unit vectors with sparse ids."""

from __future__ import annotations

import numpy as np
import pytest


def clustered_unit_vectors(n: int, dim: int, clusters: int = 8, seed: int = 0) -> np.ndarray:
    """Gaussian blobs around random centres, L2-normalised (what callers index)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.3 * rng.normal(size=(n, dim))  # (n, dim)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


@pytest.fixture(scope="session")
def item_data() -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors): 400 items, 32-d; ids are sparse and unordered like real catalog ids."""
    vectors = clustered_unit_vectors(400, 32)
    ids = (np.random.default_rng(1).permutation(400) * 13 + 1000).astype(np.int64)
    return ids, vectors


@pytest.fixture(scope="session")
def unit_vectors():
    """The generator itself, for tests that need their own sizes."""
    return clustered_unit_vectors
