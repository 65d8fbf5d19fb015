"""Baselines evaluated under the same split: name → fit function + validation grid.

Every model is found through ``RECOMMENDERS`` (``recsys.models`` registers them all), so a spec
names a model rather than importing its module.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from recsys.core.interactions import IdVocab
from recsys.models.base import RECOMMENDERS, Recommender

FitFn = Callable[..., Recommender]  # fit(frame, item_vocab, **params)


@dataclass(frozen=True)
class Baseline:
    """A model to compare: how to fit it and which hyper-parameters to try on validation."""

    name: str
    fit: FitFn
    grid: list[dict] = field(default_factory=lambda: [{}])
    note: str = ""


def product(**axes: tuple) -> list[dict]:
    """Every combination of the axes' values, the first axis varying slowest."""
    return [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]


# Every collaborative model is tried fitted on liked items and on all interactions.
SIGNALS = ("liked", "all")

# Hyper-parameters are picked on validation only; ``eval.tuning.tune`` then walks past an
# edge the winner sits on, so a grid's range is a starting point, not a hard limit.
GRIDS: dict[str, dict[str, list[dict]]] = {
    # "fast" keeps `recsys evaluate` on the demo catalog to a few minutes on 2 CPU cores.
    "fast": {
        "itemknn": product(neighbours=(20, 100), signal=SIGNALS),  # 4 points
        "ease": product(lam=(50.0, 250.0, 1000.0), signal=SIGNALS),  # 6
        "als": product(factors=(32, 64), signal=SIGNALS),  # 4
    },
    "thorough": {
        "itemknn": product(
            neighbours=(10, 25, 50, 100, 200, 400), shrink=(0.0, 10.0, 50.0), signal=SIGNALS
        ),  # 36 points
        "ease": product(
            lam=(10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0), signal=SIGNALS
        ),  # 16
        "als": product(
            factors=(32, 64, 128),
            regularization=(0.01, 0.1),
            alpha=(1.0, 10.0, 40.0),
            signal=SIGNALS,
        ),  # 36
    },
}


def collaborative_baselines(grid: str = "fast") -> list[Baseline]:
    """Popularity, item-kNN, EASE and ALS with the named grid ("fast" or "thorough")."""
    if grid not in GRIDS:
        raise ValueError(f"unknown grid {grid!r}; choose one of {sorted(GRIDS)}")
    g = GRIDS[grid]
    fit = {name: RECOMMENDERS.get(name).fit for name in ("popularity", "itemknn", "ease", "als")}
    return [
        Baseline("popularity", fit["popularity"], [{}], "train counts of positives"),
        Baseline("itemknn", fit["itemknn"], g["itemknn"], "shrunk cosine item-item"),
        Baseline("ease", fit["ease"], g["ease"], "closed-form EASE"),
        Baseline("als", fit["als"], g["als"], "implicit ALS"),
    ]


VectorsFor = Callable[[pl.DataFrame], np.ndarray]  # fit frame -> (n_items, d) item vectors


def vectors_for(vectors: np.ndarray | VectorsFor) -> VectorsFor:
    """Fixed vectors, or a function computing them from the fit frame only (no leakage)."""
    return vectors if callable(vectors) else (lambda frame: vectors)


def content_baseline(vectors: np.ndarray | VectorsFor, modality: str) -> Baseline:
    """Content-only kNN on one modality's item vectors (nothing to tune)."""
    get = vectors_for(vectors)
    model = RECOMMENDERS.get("content_knn")

    def fit(frame: pl.DataFrame, item_vocab: IdVocab) -> Recommender:
        return model.fit(frame, item_vocab, vectors=get(frame), modality=modality)

    return Baseline(f"content_knn[{modality}]", fit, [{}], f"mean-profile cosine on {modality}")
