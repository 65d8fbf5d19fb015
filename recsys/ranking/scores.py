"""Per-request scores of a few items: what sources rank by and features read, never (n,).

Each function gives, for the items asked about, the very numbers (to the last bit) of the
catalog-wide product it replaces, so a source's order, its ``rank:*`` feature and the
``score:*`` features agree with each other and with pipelines saved before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.candidates import row_sums
from recsys.models.ease import EASE
from recsys.models.itemknn import ItemKNN


def rowdot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """(r,) ``matrix @ vector`` for an (r, d) block of rows, each row's score independent of r.

    OpenBLAS's sgemv rounds the last ``r % 4`` rows of a product through another kernel, so
    an item's score would change in the last bit with the number of items scored alongside
    it; zero rows pad the block to a multiple of four, which is how every row of a
    catalog-wide product is computed.
    """
    rows = len(matrix)
    pad = -rows % 4
    if pad:
        matrix = np.concatenate([matrix, np.zeros((pad, matrix.shape[1]), matrix.dtype)])
    return (matrix @ vector)[:rows]


@dataclass(frozen=True)
class SparseScores:
    """Scores of the items a history reaches: ``cols`` (u,) sorted item indices, ``values``
    (u,) float32; every other item scores 0 ("this source says nothing")."""

    cols: np.ndarray
    values: np.ndarray

    def at(self, items: np.ndarray) -> np.ndarray:
        """(C,) the score of each of ``items`` (0 where it has none)."""
        if not len(self.cols):
            return np.zeros(len(items), np.float32)
        pos = np.minimum(np.searchsorted(self.cols, items), len(self.cols) - 1)
        return np.where(self.cols[pos] == items, self.values[pos], 0.0).astype(np.float32)

    def proposable(self) -> tuple[np.ndarray, np.ndarray]:
        """(cols, values) of the non-zero scores: what the source may propose."""
        nz = self.values != 0
        return self.cols[nz], self.values[nz]


def _known_rows(ease: EASE, history: np.ndarray) -> np.ndarray:
    """Rows of B of the history's items with training data, in sorted item order (the order
    ``EASE.score_items`` sums them in)."""
    history = np.unique(np.asarray(history, np.int64))
    if not len(ease.active) or not len(history):
        return np.zeros(0, np.int64)
    pos = np.minimum(np.searchsorted(ease.active, history), len(ease.active) - 1)
    return pos[ease.active[pos] == history]


def ease_scores(ease: EASE, history: np.ndarray) -> SparseScores:
    """EASE's scores of the items with training data (m <= ``ease_max_items`` of them):
    the sum of the history's dense B rows, h·m work, as ``EASE.score_items`` computes it."""
    known = _known_rows(ease, history)
    if not len(known):
        return SparseScores(np.zeros(0, np.int64), np.zeros(0, np.float32))
    return SparseScores(ease.active, _sum_rows(ease.weights, known))  # (m,)


def ease_at(ease: EASE, history: np.ndarray, items: np.ndarray) -> np.ndarray:
    """(C,) EASE scores of ``items`` only: B[history][:, items] summed row by row."""
    known = _known_rows(ease, history)
    out = np.zeros(len(items), np.float32)
    if not len(known):
        return out
    pos = np.minimum(np.searchsorted(ease.active, items), len(ease.active) - 1)
    has = ease.active[pos] == items
    out[has] = _sum_rows(ease.weights, known, pos[has])
    return out


def _sum_rows(matrix: np.ndarray, rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
    """``matrix[rows][:, cols].sum(axis=0)`` added one row at a time, in ``rows`` order.

    What numpy does for a wide block (row by row), without copying the h rows first; a
    narrow block numpy may sum pairwise, which rounds differently, and the same item would
    then score differently as a feature than as a proposal.
    """
    first = matrix[rows[0]]
    total = (first if cols is None else first[cols]).astype(np.float32, copy=True)
    for r in rows[1:]:
        total += matrix[r] if cols is None else matrix[r, cols]
    return total


def knn_scores(knn: ItemKNN, history: np.ndarray) -> SparseScores:
    """Item-kNN: the history's similarity rows summed over the columns they touch."""
    cols, sums = row_sums(knn.similarity, history)
    # only items that co-occur say something (the similarity is a non-negative cosine)
    return SparseScores(cols, np.where(sums > 0, sums, 0.0).astype(np.float32))
