"""Content-only kNN: user profile = mean of history item vectors, cosine to every item."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.artifacts import load_arrays, save_arrays
from recsys.core.interactions import IdVocab
from recsys.models.base import Recommender, register


@register
class ContentKNN(Recommender):
    """Needs no interactions to fit, so it scores cold items exactly like warm ones."""

    name: ClassVar[str] = "content_knn"

    def __init__(self, item_vocab: IdVocab, item_vectors: np.ndarray, modality: str = "fused"):
        if item_vectors.shape[0] != len(item_vocab):
            raise ValueError(
                f"item_vectors has {item_vectors.shape[0]} rows, catalog has {len(item_vocab)}"
            )
        self.item_vocab = item_vocab
        self.user_vocab = IdVocab.from_ids([])
        norms = np.linalg.norm(item_vectors, axis=1, keepdims=True)
        # items without a vector keep an all-zero row: they score 0, never NaN
        self.vectors = (item_vectors / np.maximum(norms, 1e-12)).astype(np.float32)  # (n, d)
        self.modality = modality

    @classmethod
    def fit(
        cls,
        interactions: pl.DataFrame,
        item_vocab: IdVocab,
        *,
        vectors: np.ndarray,
        modality: str = "fused",
    ) -> ContentKNN:
        """``vectors`` (len(item_vocab), d) in vocab order; ``interactions`` are not needed."""
        return cls(item_vocab, vectors, modality)

    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        h = (histories > 0).astype(np.float32)  # (B, n_items)
        profile = np.asarray(h @ self.vectors)  # (B, d)
        profile /= np.maximum(np.linalg.norm(profile, axis=1, keepdims=True), 1e-12)
        return profile @ self.vectors.T  # (B, n_items)

    def save(self, directory: Path) -> None:
        save_arrays(
            directory,
            {"name": self.name, "modality": self.modality},
            item_ids=self.item_vocab.ids,
            vectors=self.vectors,
        )

    @classmethod
    def load(cls, directory: Path) -> ContentKNN:
        m, a = load_arrays(directory)
        return cls(IdVocab(a["item_ids"]), a["vectors"], m["modality"])
