"""Pick each baseline's hyper-parameters on validation, then refit on train+valid for the test."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from eval.baselines import Baseline
from eval.protocol import EvalData, ModelResult, evaluate
from eval.splits import Split
from recsys.core.interactions import IdVocab
from recsys.models.base import Recommender


@dataclass
class Tuned:
    """The chosen parameters, every grid point's validation score and the refitted model."""

    name: str
    params: dict
    valid_scores: list[tuple[dict, float]] = field(default_factory=list)
    model: Recommender | None = None
    fit_seconds: float = 0.0


def tune(
    baseline: Baseline,
    split: Split,
    item_vocab: IdVocab,
    valid_data: EvalData | None,
    metric: str = "ndcg@10",
) -> Tuned:
    """Grid search on ``split.valid`` (fit on train), refit the winner on train+valid.

    A single-point grid skips the validation pass. Ties keep the earlier grid point.
    """
    scores: list[tuple[dict, float]] = []
    best = baseline.grid[0] if baseline.grid else {}
    if len(baseline.grid) > 1 and valid_data is not None and len(valid_data.user_ids):
        k = int(metric.split("@")[1])
        best_score = -np.inf
        for params in baseline.grid:
            model = baseline.fit(split.train, item_vocab, **params)
            result = evaluate(model, valid_data, baseline.name, ks=(k,), n_boot=0)
            score = result.mean(metric)
            scores.append((params, score))
            if score > best_score:
                best, best_score = params, score
    start = time.perf_counter()
    model = baseline.fit(split.train_valid(), item_vocab, **best)
    return Tuned(baseline.name, dict(best), scores, model, time.perf_counter() - start)


def run_baseline(
    baseline: Baseline,
    split: Split,
    item_vocab: IdVocab,
    valid_data: EvalData | None,
    test_data: EvalData,
    item_vectors: np.ndarray | None = None,
    ks: tuple[int, ...] = (10, 20),
    n_boot: int = 1000,
) -> tuple[ModelResult, Tuned]:
    """Tune on valid, refit on train+valid, evaluate on test."""
    start = time.perf_counter()
    tuned = tune(baseline, split, item_vocab, valid_data)
    assert tuned.model is not None
    result = evaluate(tuned.model, test_data, baseline.name, ks, item_vectors, n_boot)
    result.params = tuned.params
    result.seconds = time.perf_counter() - start
    return result, tuned
