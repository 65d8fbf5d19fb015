"""Implicit-feedback ALS (Hu, Koren, Volinsky 2008) trained with the `implicit` library on CPU.

Scoring folds each user in from the given history with the same least-squares step ALS uses,
so known users, new users and fresh session history are all handled the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.artifacts import load_arrays, save_arrays
from recsys.core.interactions import IdVocab, signal_matrix
from recsys.models.base import Recommender, register

_GRAM_BLOCK = 65_536  # rows of Y per float64 block of ``ALS._base``


@register
class ALS(Recommender):
    name: ClassVar[str] = "als"

    def __init__(
        self,
        item_vocab: IdVocab,
        user_vocab: IdVocab,
        item_factors: np.ndarray,
        regularization: float,
        alpha: float,
    ):
        self.item_vocab = item_vocab
        self.user_vocab = user_vocab
        self.item_factors = item_factors  # (n_items, f)
        self.regularization = regularization
        self.alpha = alpha
        self._gram: np.ndarray | None = None  # YᵀY + λI, computed on the first fold-in

    @classmethod
    def fit(
        cls,
        interactions: pl.DataFrame,
        item_vocab: IdVocab,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 0,
        signal: str = "liked",
    ) -> ALS:
        """``alpha``: confidence of an observed pair (see ``fold_in``); ``signal``: learn from
        liked items ("liked") or from every interaction ("all")."""
        from implicit.cpu.als import AlternatingLeastSquares  # heavy: only when fitting
        from threadpoolctl import threadpool_limits

        user_vocab, x = signal_matrix(interactions, item_vocab, signal)  # (users, items)

        # implicit parallelises itself; a threaded BLAS underneath oversubscribes the cores
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=factors,
                regularization=regularization,
                alpha=alpha,
                iterations=iterations,
                random_state=seed,
                num_threads=1,
            )
            model.fit(x, show_progress=False)
        return cls(
            item_vocab,
            user_vocab,
            np.asarray(model.item_factors, np.float32),
            regularization,
            alpha,
        )

    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        return self.fold_in(histories) @ self.item_factors.T  # (B, n_items)

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """(B, f) user factors: x = (YᵀY + Yᵀ(C−I)Y + λI)⁻¹ YᵀCp with c = α on liked items."""
        base = self._base()
        f = base.shape[0]
        binary = (histories > 0).astype(np.float64).tocsr()
        out = np.zeros((binary.shape[0], f), np.float32)
        for row in range(binary.shape[0]):
            idx = binary.indices[binary.indptr[row] : binary.indptr[row + 1]]
            if len(idx) == 0:
                continue
            yi = self.item_factors[idx].astype(np.float64)  # (h, f)
            a = base + (self.alpha - 1.0) * yi.T @ yi
            b = self.alpha * yi.sum(0)
            out[row] = np.linalg.solve(a, b)
        return out

    def _base(self) -> np.ndarray:
        """YᵀY + λI (f, f) in float64: the same for every user, so computed once (O(n·f²)).

        Summed over row blocks, so no float64 copy of all of Y stays (or even exists) in each
        serving worker: ``item_factors`` may be memory-mapped and shared between them.
        """
        if self._gram is None:
            y = self.item_factors
            f = y.shape[1]
            gram = self.regularization * np.eye(f)
            for lo in range(0, len(y), _GRAM_BLOCK):
                block = y[lo : lo + _GRAM_BLOCK].astype(np.float64)  # (≤ block, f)
                gram += block.T @ block
            self._gram = gram
        return self._gram

    def save(self, directory: Path) -> None:
        save_arrays(
            directory,
            {"name": self.name, "regularization": self.regularization, "alpha": self.alpha},
            item_ids=self.item_vocab.ids,
            user_ids=self.user_vocab.ids,
            item_factors=self.item_factors,
        )

    @classmethod
    def load(cls, directory: Path) -> ALS:
        m, a = load_arrays(directory)
        return cls(
            IdVocab(a["item_ids"]),
            IdVocab(a["user_ids"]),
            a["item_factors"],
            m["regularization"],
            m["alpha"],
        )
