"""Edge extension of the validation grid search: known score curves, known walks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from eval.baselines import GRIDS, Baseline
from eval.protocol import EvalData, prepare
from eval.tuning import extend_edges, step_out, tune
from recsys.core.interactions import IdVocab
from recsys.core.splits import leave_last_out
from recsys.models.base import Recommender


class Planted(Recommender):
    """Ranks each validation user's held-out item first for ``good`` users, last for the rest.

    So the validation ndcg@10 is (good + (U - good) * c) / U with c < 1: a strictly increasing
    function of ``good``, which the tests set from the hyper-parameter.
    """

    name = "planted"

    def __init__(self, data: EvalData, good: int):
        self.item_vocab = data.item_vocab
        self.user_vocab = IdVocab(data.user_ids)
        sign = np.where(np.arange(len(data.user_ids)) < good, 1.0, -1.0)[:, None]
        decoys = np.linspace(0.0, 0.5, len(self.item_vocab))[None, :]  # distinct, below 1
        self.table = np.where(data.relevant.toarray() > 0, 2.0 * sign, decoys).astype(np.float32)

    @classmethod
    def fit(cls, interactions, item_vocab, *args, **params) -> Planted:
        raise NotImplementedError  # built by the tests' fit functions

    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        return self.table[users]

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path) -> Planted:
        raise NotImplementedError


def lam_baseline(blocks, peak: float):
    """A baseline whose validation score peaks at ``lam == peak`` (log2 distance), + its fits."""
    split = leave_last_out(blocks)
    vocab = IdVocab.from_ids(blocks["item_id"])
    valid_data = prepare(split.train, split.valid, vocab)
    n_users = len(valid_data.user_ids)
    fitted: list[dict] = []

    def fit(frame, item_vocab, lam: float, signal: str = "liked"):
        fitted.append({"lam": lam, "signal": signal})
        distance = round(abs(math.log2(lam / peak)))
        return Planted(valid_data, max(0, n_users - distance))

    grid = [
        {"lam": v, "signal": s} for v in (10.0, 100.0, 1000.0, 5000.0) for s in ("liked", "all")
    ]
    return Baseline("toy", fit, grid), split, vocab, valid_data, fitted


def test_extension_walks_up_to_the_peak(blocks):
    # grid max 5000 wins; 10000 and 20000 beat it, 40000 does not: the walk stops at the peak
    baseline, split, vocab, valid_data, fitted = lam_baseline(blocks, peak=20000.0)
    tuned = tune(baseline, split, vocab, valid_data)
    assert tuned.params == {"lam": 20000.0, "signal": "liked"}
    tried = [p for p, _ in tuned.valid_scores]
    assert tried[: len(baseline.grid)] == baseline.grid
    assert [p["lam"] for p in tried[len(baseline.grid) :]] == [10000.0, 20000.0, 40000.0]
    assert tuned.extended == ["lam"] and tuned.at_edge == []
    assert fitted[-1] == tuned.params  # the refit on train+valid uses the winner


def test_extension_stops_at_the_cap_and_says_so(blocks):
    baseline, split, vocab, valid_data, _ = lam_baseline(blocks, peak=1e6)
    tuned = tune(baseline, split, vocab, valid_data)
    lams = [p["lam"] for p, _ in tuned.valid_scores[len(baseline.grid) :]]
    assert lams == [10000.0, 20000.0, 40000.0]  # 3 extensions, every one winning
    assert tuned.params["lam"] == 40000.0
    assert tuned.extended == ["lam"] and tuned.at_edge == ["lam"]


def test_interior_winner_is_not_extended(blocks):
    baseline, split, vocab, valid_data, _ = lam_baseline(blocks, peak=1000.0)
    tuned = tune(baseline, split, vocab, valid_data)
    assert tuned.params["lam"] == 1000.0
    assert len(tuned.valid_scores) == len(baseline.grid)
    assert tuned.extended == [] and tuned.at_edge == []


def test_extension_walks_down_keeping_the_other_params() -> None:
    # winner at the min of "neighbours": halve it, integers stay >= 1; shrink is not an axis
    grid = [{"neighbours": n, "shrink": 10.0} for n in (4, 40)]
    tried: list[dict] = []

    def score(params: dict) -> float:
        tried.append(params)
        return -params["neighbours"]  # fewer is always better

    best, extended = extend_edges(grid, grid[0], score(grid[0]), score)
    assert [p["neighbours"] for p in tried[1:]] == [2, 1]  # 1 cannot be halved any further
    assert best == {"neighbours": 1, "shrink": 10.0} and extended == ["neighbours"]
    assert step_out(3, up=False) == 2 and step_out(0.05, up=True) == 0.1


def test_grids_are_real():
    thorough = GRIDS["thorough"]
    lams = {p["lam"] for p in thorough["ease"]}
    assert min(lams) <= 10 and max(lams) >= 5000 and len(lams) >= 6
    assert {p["shrink"] for p in thorough["itemknn"]} >= {0.0, 10.0, 50.0}
    assert {(p["factors"], p["regularization"], p["alpha"]) for p in thorough["als"]} >= {
        (32, 0.01, 1.0),
        (128, 0.1, 40.0),
    }
    for grids in GRIDS.values():
        for points in grids.values():
            assert {p["signal"] for p in points} == {"liked", "all"}
    assert len({p["lam"] for p in GRIDS["fast"]["ease"]}) >= 3
