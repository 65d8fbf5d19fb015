"""Known-answer data for the index tests: clustered unit vectors with sparse, unordered ids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tests.worlds import clustered_unit_vectors


@dataclass(frozen=True)
class Catalog:
    """Items to index and queries whose brute-force answer is known.

    ``ids`` (N,) int64 sparse and unordered like real catalog ids; ``vectors`` (N, D) unit
    rows; ``queries`` (Q, D) unit rows near stored items (a user close to what they liked).
    """

    ids: np.ndarray
    vectors: np.ndarray
    queries: np.ndarray

    def brute_force(self, queries: np.ndarray, k: int, metric: str = "ip") -> np.ndarray:
        """The exact top-``k`` ids (Q, k) per query: what every kind is measured against."""
        if metric == "ip":
            scores = queries @ self.vectors.T
        else:
            scores = -((queries[:, None, :] - self.vectors[None]) ** 2).sum(axis=-1)
        return self.ids[np.argsort(-scores, axis=1, kind="stable")[:, :k]]


def make_catalog(n: int, dim: int, clusters: int, n_queries: int) -> Catalog:
    vectors = clustered_unit_vectors(n, dim, clusters=clusters)
    ids = (np.random.default_rng(1).permutation(n) * 13 + 1000).astype(np.int64)
    noise = np.random.default_rng(2).normal(size=(n_queries, dim)) * 0.2 / np.sqrt(dim)
    queries = vectors[:n_queries] + noise.astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return Catalog(ids, vectors, queries.astype(np.float32))


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """2,000 items, 32-d, 16 clusters: big enough that IVF-PQ splits it into several lists
    and its 4-bit codes lose some recall (it probes all 7, so the loss is the codes')."""
    return make_catalog(2000, 32, clusters=16, n_queries=100)


@pytest.fixture(scope="session")
def item_data() -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors): 400 items, 32-d, for tests that need an index but not a known answer."""
    small = make_catalog(400, 32, clusters=8, n_queries=1)
    return small.ids, small.vectors
