"""Adapter to the project's hybrid ranker (the registered "hybrid" recommender).

The hybrid does its own early stopping on a held-out tail of the data it is given (each user's
last positive), and fits its re-scorer's blend weights on that same tail, so it is fit once on
train+valid (never on test) instead of over a grid.
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl

from eval.baselines import Baseline, VectorsFor, vectors_for
from recsys.core.interactions import IdVocab
from recsys.models.base import RECOMMENDERS, Recommender

log = logging.getLogger(__name__)


def hybrid_baseline(
    content: np.ndarray | VectorsFor | None, modality: str, overrides: dict | None = None
) -> Baseline:
    """The hybrid with ``content`` (n_items, d) item vectors, or a function of the fit frame
    giving them (None = IDs only); ``overrides`` replace HybridConfig fields."""
    get = vectors_for(content) if content is not None else None
    model = RECOMMENDERS.get("hybrid")

    def fit(frame: pl.DataFrame, item_vocab: IdVocab) -> Recommender:
        vectors = get(frame) if get is not None else None
        return model.fit(frame, item_vocab, vectors=vectors, log=log.debug, **(overrides or {}))

    note = "two-tower hybrid + re-scorer, internal early stopping"
    return Baseline(f"hybrid[{modality}]", fit, [{}], note)
