"""Item-item collaborative filtering: cosine similarity of item co-occurrence, top-k pruned."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.artifacts import load_arrays, save_arrays, sparse_from_arrays, sparse_to_arrays
from recsys.core.interactions import IdVocab, signal_matrix
from recsys.models.base import Recommender, register


@register
class ItemKNN(Recommender):
    name: ClassVar[str] = "itemknn"

    def __init__(
        self, item_vocab: IdVocab, user_vocab: IdVocab, similarity: sp.csr_matrix, neighbours: int
    ):
        self.item_vocab = item_vocab
        self.user_vocab = user_vocab
        self.similarity = similarity  # (n_items, n_items), row i = neighbours of item i
        self.neighbours = neighbours

    @classmethod
    def fit(
        cls,
        interactions: pl.DataFrame,
        item_vocab: IdVocab,
        neighbours: int = 100,
        shrink: float = 10.0,
        signal: str = "liked",
    ) -> ItemKNN:
        """``signal``: co-occurrence of liked items ("liked") or of every interaction ("all")."""
        user_vocab, matrix = signal_matrix(interactions, item_vocab, signal)
        return cls(item_vocab, user_vocab, item_similarity(matrix, neighbours, shrink), neighbours)

    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        return np.asarray((histories @ self.similarity).todense(), dtype=np.float32)

    def save(self, directory: Path) -> None:
        save_arrays(
            directory,
            {"name": self.name, "neighbours": self.neighbours},
            item_ids=self.item_vocab.ids,
            user_ids=self.user_vocab.ids,
            **sparse_to_arrays("sim", self.similarity),
        )

    @classmethod
    def load(cls, directory: Path) -> ItemKNN:
        manifest, a = load_arrays(directory)
        return cls(
            IdVocab(a["item_ids"]),
            IdVocab(a["user_ids"]),
            sparse_from_arrays("sim", a),
            manifest["neighbours"],
        )


def item_similarity(matrix: sp.csr_matrix, neighbours: int, shrink: float) -> sp.csr_matrix:
    """Shrunk cosine between item columns, keeping the ``neighbours`` largest per item."""
    binary = (matrix > 0).astype(np.float32).tocsc()
    norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel())
    co = (binary.T @ binary).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    rows, cols = co.nonzero()
    co.data = co.data / (norms[rows] * norms[cols] + shrink)
    return _keep_top_per_row(co, neighbours)


def _keep_top_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    matrix = matrix.tocsr()
    data, indices, indptr = [], [], [0]
    for r in range(matrix.shape[0]):
        start, end = matrix.indptr[r], matrix.indptr[r + 1]
        row_data, row_idx = matrix.data[start:end], matrix.indices[start:end]
        if len(row_data) > k:
            keep = np.argpartition(-row_data, k - 1)[:k]
            row_data, row_idx = row_data[keep], row_idx[keep]
        data.append(row_data)
        indices.append(row_idx)
        indptr.append(indptr[-1] + len(row_data))
    return sp.csr_matrix(
        (np.concatenate(data).astype(np.float32), np.concatenate(indices), np.asarray(indptr)),
        shape=matrix.shape,
    )
