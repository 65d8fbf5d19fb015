"""Adapter to the project's hybrid ranker (recsys.models.hybrid), imported lazily.

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
from recsys.models.base import Recommender

log = logging.getLogger(__name__)


def hybrid_available() -> tuple[bool, str]:
    """Whether ``recsys.models.hybrid.fit_hybrid`` imports, and why not."""
    try:
        from recsys.models.hybrid import fit_hybrid  # noqa: F401
    except Exception as e:  # any import-time failure means "not available", with the reason
        return False, f"hybrid ranker not importable: {type(e).__name__}: {e}"
    return True, ""


def hybrid_baseline(
    content: np.ndarray | VectorsFor | None, modality: str, overrides: dict | None = None
) -> Baseline:
    """The hybrid with ``content`` (n_items, d) item vectors, or a function of the fit frame
    giving them (None = IDs only)."""
    get = vectors_for(content) if content is not None else None

    def fit(frame: pl.DataFrame, item_vocab: IdVocab) -> Recommender:
        from recsys.models.hybrid import HybridConfig, fit_hybrid

        config = HybridConfig.from_dict({**HybridConfig().to_dict(), **(overrides or {})})
        # no vectors: an all-zero content matrix means "IDs only" to the hybrid
        vectors = get(frame) if get is not None else np.zeros((len(item_vocab), 1), np.float32)
        return fit_hybrid(frame, item_vocab.ids, vectors, config, log=log.debug)

    note = "two-tower hybrid + re-scorer, internal early stopping"
    return Baseline(f"hybrid[{modality}]", fit, [{}], note)
