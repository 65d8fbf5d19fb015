"""Most-popular items: the fallback for cold users and the baseline everything must beat."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.artifacts import load_arrays, save_arrays
from recsys.core.interactions import IdVocab, positive_matrix
from recsys.models.base import Recommender, register


@register
class Popularity(Recommender):
    name: ClassVar[str] = "popularity"

    def __init__(self, item_vocab: IdVocab, user_vocab: IdVocab, counts: np.ndarray):
        self.item_vocab = item_vocab
        self.user_vocab = user_vocab
        self.counts = counts.astype(np.float32)

    @classmethod
    def fit(cls, interactions: pl.DataFrame, item_vocab: IdVocab) -> Popularity:
        user_vocab, matrix = positive_matrix(interactions, item_vocab)
        counts = np.asarray(matrix.sum(axis=0)).ravel()
        return cls(item_vocab, user_vocab, counts)

    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        # log1p keeps scores on a scale comparable with other sources when blended
        return np.broadcast_to(np.log1p(self.counts), (histories.shape[0], len(self.counts)))

    def save(self, directory: Path) -> None:
        save_arrays(
            directory,
            {"name": self.name},
            item_ids=self.item_vocab.ids,
            user_ids=self.user_vocab.ids,
            counts=self.counts,
        )

    @classmethod
    def load(cls, directory: Path) -> Popularity:
        _, a = load_arrays(directory)
        return cls(IdVocab(a["item_ids"]), IdVocab(a["user_ids"]), a["counts"])
