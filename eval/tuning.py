"""Pick each baseline's hyper-parameters on validation, then refit on train+valid for the test."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from eval.baselines import Baseline
from eval.protocol import EvalData, ModelResult, evaluate
from recsys.core.interactions import IdVocab
from recsys.core.splits import Split
from recsys.models.base import Recommender

# Numeric hyper-parameters worth walking past the grid's edge (the others are categorical).
EDGE_AXES = ("lam", "neighbours", "factors", "regularization", "alpha")
MAX_EXTENSIONS = 3  # per axis: x2 (or /2) three times covers an 8x wider range


@dataclass
class Tuned:
    """The chosen parameters, every point's validation score and the refitted model.

    ``extended`` names the axes walked past the grid's edge; ``at_edge`` those where the winner
    still sits on the edge of every value tried (the cap was hit, or an integer could not go
    below 1): the optimum may lie beyond, so read that model's numbers with care.
    """

    name: str
    params: dict
    valid_scores: list[tuple[dict, float]] = field(default_factory=list)
    model: Recommender | None = None
    fit_seconds: float = 0.0
    extended: list[str] = field(default_factory=list)
    at_edge: list[str] = field(default_factory=list)


def tune(
    baseline: Baseline,
    split: Split,
    item_vocab: IdVocab,
    valid_data: EvalData | None,
    metric: str = "ndcg@10",
    max_extensions: int = MAX_EXTENSIONS,
) -> Tuned:
    """Grid search on ``split.valid`` (fit on train), walk past the edge, refit on train+valid.

    Hyper-parameters are picked on the validation split only, never on test: every candidate
    is fitted on ``split.train`` and scored on ``valid_data``; the test split is not touched.
    If the winner sits at the min or max of a numeric axis (``EDGE_AXES``), that axis is
    extended geometrically (``extend_edges``). A single-point grid skips the validation pass.
    Ties keep the earlier point.
    """
    scores: list[tuple[dict, float]] = []
    best = baseline.grid[0] if baseline.grid else {}
    extended: list[str] = []
    at_edge: list[str] = []
    if len(baseline.grid) > 1 and valid_data is not None and len(valid_data.user_ids):
        k = int(metric.split("@")[1])

        def score(params: dict) -> float:
            model = baseline.fit(split.train, item_vocab, **params)
            value = evaluate(model, valid_data, baseline.name, ks=(k,), n_boot=0).mean(metric)
            scores.append((params, value))
            return value

        best_score = -np.inf
        for params in baseline.grid:
            value = score(params)
            if value > best_score:
                best, best_score = params, value
        best, extended = extend_edges(baseline.grid, best, best_score, score, max_extensions)
        at_edge = edges_of(best, [p for p, _ in scores])
    start = time.perf_counter()
    model = baseline.fit(split.train_valid(), item_vocab, **best)
    seconds = time.perf_counter() - start
    return Tuned(baseline.name, dict(best), scores, model, seconds, extended, at_edge)


def numeric_axes(points: list[dict]) -> dict[str, list[float]]:
    """``EDGE_AXES`` that the points vary (>= 2 distinct numbers): axis -> its values.

    An axis with one value is a fixed setting, not a searched range, so it is never extended.
    """
    axes = {}
    for axis in EDGE_AXES:
        values = [p[axis] for p in points if axis in p]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if numeric and len(set(values)) > 1:
            axes[axis] = values
    return axes


def step_out(value: float, up: bool) -> float:
    """One geometric step past the edge: x2 up, /2 down; integers stay integers >= 1."""
    new = value * 2 if up else value / 2
    return max(1, round(new)) if isinstance(value, int) else new


def extend_edges(
    grid: list[dict],
    best: dict,
    best_score: float,
    score: Callable[[dict], float],
    max_extensions: int = MAX_EXTENSIONS,
) -> tuple[dict, list[str]]:
    """Walk each axis the winner sits on the edge of, while the new point wins.

    From the winner, change only that axis (x2 above the grid's max, /2 below its min) and
    ``score`` it; keep going while it strictly beats the best, ``max_extensions`` at most.
    Returns the final winner and the axes where at least one point past the edge was tried.
    """
    extended = []
    for axis, values in numeric_axes(grid).items():
        if best[axis] not in (min(values), max(values)):
            continue
        up = best[axis] == max(values)
        for _ in range(max_extensions):
            value = step_out(best[axis], up)
            if value == best[axis]:
                break  # cannot move further (an integer already at 1, a float at 0)
            candidate = {**best, axis: value}
            if axis not in extended:
                extended.append(axis)
            candidate_score = score(candidate)
            if candidate_score <= best_score:
                break
            best, best_score = candidate, candidate_score
    return best, extended


def edges_of(best: dict, tried: list[dict]) -> list[str]:
    """Axes on which ``best`` holds the smallest or largest value of every point tried."""
    return [
        axis
        for axis, values in numeric_axes(tried).items()
        if best[axis] in (min(values), max(values))
    ]


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
