"""EASE (Steck 2019): closed-form item-item weights B = I - P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.artifacts import load_arrays, save_arrays
from recsys.core.interactions import IdVocab, signal_matrix
from recsys.models.base import Recommender, register


@register
class EASE(Recommender):
    """Items never seen in training get no weights (score 0): EASE cannot rank cold items."""

    name: ClassVar[str] = "ease"

    def __init__(
        self,
        item_vocab: IdVocab,
        user_vocab: IdVocab,
        active: np.ndarray,
        weights: np.ndarray,
        lam: float,
    ):
        self.item_vocab = item_vocab
        self.user_vocab = user_vocab
        self.active = active  # (m,) item indices with training data
        self.weights = weights  # (m, m) float32, zero diagonal
        self.lam = lam

    @classmethod
    def fit(
        cls,
        interactions: pl.DataFrame,
        item_vocab: IdVocab,
        lam: float = 100.0,
        signal: str = "liked",
    ) -> EASE:
        """``signal``: learn from liked items ("liked") or every interaction ("all")."""
        user_vocab, x = signal_matrix(interactions, item_vocab, signal)
        active, weights = ease_weights(x, lam)
        return cls(item_vocab, user_vocab, active, weights, lam)

    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        h = (histories[:, self.active] > 0).astype(np.float32)  # (B, m)
        out = np.zeros((histories.shape[0], len(self.item_vocab)), np.float32)  # (B, n_items)
        out[:, self.active] = h @ self.weights
        return out

    def score_items(self, history: np.ndarray) -> np.ndarray:
        """(n_items,) scores for ONE user from the item indices they liked: the sum of those
        items' weight rows, O(h·m) instead of the (1, m) x (m, m) product ``score`` does."""
        history = np.unique(np.asarray(history, np.int64))
        if not len(self.active) or not len(history):
            return np.zeros(len(self.item_vocab), np.float32)
        pos = np.minimum(np.searchsorted(self.active, history), len(self.active) - 1)
        known = pos[self.active[pos] == history]  # items without training data add nothing
        out = np.zeros(len(self.item_vocab), np.float32)
        if len(known):
            out[self.active] = self.weights[known].sum(axis=0)
        return out

    def save(self, directory: Path) -> None:
        save_arrays(
            directory,
            {"name": self.name, "lam": self.lam},
            item_ids=self.item_vocab.ids,
            user_ids=self.user_vocab.ids,
            active=self.active,
            weights=self.weights,
        )

    @classmethod
    def load(cls, directory: Path) -> EASE:
        m, a = load_arrays(directory)
        return cls(
            IdVocab(a["item_ids"]), IdVocab(a["user_ids"]), a["active"], a["weights"], m["lam"]
        )


def ease_weights(x: sp.csr_matrix, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """THE EASE closed form on the binarised (U, N) matrix ``x``: (active (m,), B (m, m)).

    ``active`` lists the items with at least one positive; ``B`` (float32, zero diagonal,
    column j predicts item j) covers only them: keeping the O(m³) inverse small on long-tail
    catalogues, and the other items would get all-zero weights anyway.
    """
    x = (sp.csr_matrix(x) > 0).astype(np.float64)
    active = np.flatnonzero(np.asarray(x.sum(0)).ravel() > 0)
    xa = x[:, active]
    gram = (xa.T @ xa).toarray()  # (m, m)
    gram[np.diag_indices_from(gram)] += lam
    p = np.linalg.inv(gram) if len(active) else gram
    b = (-p / np.diag(p)[None, :]).astype(np.float32)
    np.fill_diagonal(b, 0.0)
    return active, b
