"""Sparse item-item rows read per request without touching every catalog column.

A history of h items over an (n, n) neighbour matrix (item-kNN similarity, pruned EASE
weights) has at most h x (neighbours per row) non-zeros; these helpers work on those alone,
where ``matrix[rows].sum(axis=0)`` or ``matrix[rows][:, cols]`` would allocate (n,) arrays.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def row_sums(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sum of ``matrix``'s ``rows`` over the columns they touch.

    Returns (cols (u,) sorted column indices, sums (u,)): the same numbers, to the last bit,
    as ``matrix[rows].sum(axis=0)`` at those columns (scipy sums a compacted copy the same
    way, row by row in ``rows`` order), and every other column of that sum is zero.
    """
    picked = matrix[np.asarray(rows, np.int64)]  # (h, n) CSR: h + nnz work, no (n,) array
    if not picked.nnz:
        return np.zeros(0, np.int64), np.zeros(0, matrix.dtype)
    cols, inverse = np.unique(picked.indices, return_inverse=True)
    compact = sp.csr_matrix(
        (picked.data, inverse.ravel(), picked.indptr), shape=(picked.shape[0], len(cols))
    )
    return cols.astype(np.int64), np.asarray(compact.sum(axis=0)).ravel()


def block(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Dense ``matrix[rows][:, cols]`` (len(rows), len(cols)) for distinct ``cols``.

    scipy's column indexing allocates per-column offsets over the whole catalog; this looks
    the selected rows' non-zeros up in ``cols`` instead.
    """
    picked = matrix[np.asarray(rows, np.int64)]  # (h, n) CSR
    cols = np.asarray(cols, np.int64)
    out = np.zeros((picked.shape[0], len(cols)), matrix.dtype)
    if not picked.nnz or not len(cols):
        return out
    order = np.argsort(cols, kind="stable")
    sorted_cols = cols[order]
    pos = np.minimum(np.searchsorted(sorted_cols, picked.indices), len(cols) - 1)
    hit = sorted_cols[pos] == picked.indices
    row_of = np.repeat(np.arange(picked.shape[0]), np.diff(picked.indptr))
    out[row_of[hit], order[pos[hit]]] = picked.data[hit]
    return out
