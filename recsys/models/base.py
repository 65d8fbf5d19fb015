"""The interface every recommender implements, so training, evaluation and serving share it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.artifacts import read_manifest
from recsys.core.interactions import IdVocab
from recsys.core.registry import Registry


class Recommender(ABC):
    """Scores every catalog item for a batch of users (full ranking, no sampled negatives).

    ``users`` are dense indices into ``user_vocab`` (-1 for users unseen in training);
    ``histories`` is a CSR (batch, n_items) of the users' known positives in item-vocab order.
    Models that ignore user identity (popularity, item-kNN) use only ``histories``, which is
    also how anonymous users and fresh session history are served.
    """

    name: ClassVar[str]
    item_vocab: IdVocab
    user_vocab: IdVocab

    @classmethod
    @abstractmethod
    def fit(
        cls, interactions: pl.DataFrame, item_vocab: IdVocab, *args: Any, **params: Any
    ) -> Recommender:
        """Train on canonical ``interactions``, scoring the items of ``item_vocab`` in its order.

        ``params`` are the model's hyper-parameters (what a tuning grid varies) plus any input
        beyond interactions the model needs (``vectors=`` for content_knn and the hybrid).
        (``*args, **params`` is the form type checkers accept under every model's own keywords.)
        """

    @abstractmethod
    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        """Return (batch, n_items) float32 scores; higher is better."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write weights (npz/safetensors, no pickle) plus a JSON manifest."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> Recommender: ...


# mypy refuses an abstract class where ``type[T]`` is expected; the interface is the point here
RECOMMENDERS: Registry[Recommender] = Registry("recommender", Recommender)


def register(cls: type[Recommender]) -> type[Recommender]:
    """Class decorator: register ``cls`` under its ``name`` (a second ``name`` is refused)."""
    return RECOMMENDERS.register(cls.name)(cls)


def load_recommender(directory: Path) -> Recommender:
    """Load whichever recommender ``directory`` holds (dispatch on its manifest's ``name``)."""
    return RECOMMENDERS.get(read_manifest(directory)["name"]).load(directory)


def top_k(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None = None) -> np.ndarray:
    """Indices of the k best items per row, best first; ``exclude``'s non-zeros never returned."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if exclude is not None and exclude.nnz:
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
