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
    """Scores ``log1p(counts)`` of training positives; ties broken at random with a fixed seed.

    Equal counts (e.g. every zero-count new item) would otherwise rank in catalog index order,
    a hidden bias towards low ids. A per-item jitter drawn from ``seed`` orders them instead,
    smaller than half the smallest gap between distinct scores so different counts never swap.
    ``counts`` stay the raw counts: serving and the index read them directly.
    """

    name: ClassVar[str] = "popularity"

    def __init__(self, item_vocab: IdVocab, user_vocab: IdVocab, counts: np.ndarray, seed: int = 0):
        self.item_vocab = item_vocab
        self.user_vocab = user_vocab
        self.counts = counts.astype(np.float32)
        self.seed = seed
        self.scores = popularity_scores(self.counts, seed)  # (n_items,) float32

    @classmethod
    def fit(cls, interactions: pl.DataFrame, item_vocab: IdVocab, seed: int = 0) -> Popularity:
        user_vocab, matrix = positive_matrix(interactions, item_vocab)
        counts = np.asarray(matrix.sum(axis=0)).ravel()
        return cls(item_vocab, user_vocab, counts, seed)

    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.scores, (histories.shape[0], len(self.scores)))

    def save(self, directory: Path) -> None:
        save_arrays(
            directory,
            {"name": self.name, "seed": self.seed},
            item_ids=self.item_vocab.ids,
            user_ids=self.user_vocab.ids,
            counts=self.counts,
        )

    @classmethod
    def load(cls, directory: Path) -> Popularity:
        m, a = load_arrays(directory)
        # models saved before the tie-break have no seed: 0 is what they get
        return cls(IdVocab(a["item_ids"]), IdVocab(a["user_ids"]), a["counts"], m.get("seed", 0))


def popularity_scores(counts: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n,) float32 ``log1p(counts)`` plus a seeded tie-breaking jitter in [0, gap / 2).

    log1p keeps scores on a scale comparable with other sources when blended. The sum is done in
    float64, where the jitter is strictly below every gap between distinct values; the float32
    cast is monotone, so it may merge near-equal huge counts back into a tie but never swaps two.
    """
    base = np.log1p(np.asarray(counts, np.float64))
    distinct = np.unique(base)
    gap = float(np.diff(distinct).min()) if len(distinct) > 1 else 1.0
    tie = np.random.default_rng(seed).random(len(base)) * min(1e-3, gap / 2)
    return (base + tie).astype(np.float32)
