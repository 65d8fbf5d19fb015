"""Clean index input: drop the rows an index must not hold, and say which were dropped."""

from __future__ import annotations

import numpy as np


def drop_bad_rows(
    ids: np.ndarray, vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, list[int]]]:
    """Drop rows that would poison the index, keeping the rest and naming what was dropped.

    Non-finite vectors (a failed encoder row) would win or lose every inner product; a repeated
    id would make results ambiguous (the first row is kept). ``Index.build`` refuses both, so
    callers clean first and record the skipped ids (e.g. in the index lineage).

    Returns:
        ids (M,) int64, vectors (M, D) float32, and the dropped ids by reason
        (``non_finite``, ``duplicate``).
    """
    ids = np.asarray(ids, dtype=np.int64).ravel()
    vectors = np.asarray(vectors, dtype=np.float32)  # (N, D)
    finite = np.isfinite(vectors).all(axis=1)
    first = np.zeros(len(ids), dtype=bool)
    first[np.unique(ids, return_index=True)[1]] = True
    keep = finite & first
    skipped = {
        "non_finite": ids[~finite].tolist(),
        "duplicate": ids[finite & ~first].tolist(),
    }
    return ids[keep], vectors[keep], skipped
