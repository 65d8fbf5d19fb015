"""How the ranker's boosters are trained: user groups, the cross-validated fit, XGBoost calls.

``fit_boosters`` is the one fit procedure; ``Ranker.fit`` runs it in this process or, via
``recsys.ranking.ray_boost``, on Ray Train workers (each on its shard of the groups).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from recsys.ranking.config import PipelineConfig


@dataclass
class RankingGroups:
    """Training rows grouped by user: ``features`` (R, F), ``labels`` (R,), ``group`` sizes.

    ``window`` (G,) is each group's label window (0: the latest; older ones only train,
    never validate, so validation judges the same requests whatever the number of windows).
    """

    features: np.ndarray
    labels: np.ndarray
    group: np.ndarray  # (G,) rows per user, in row order
    users: np.ndarray  # (G,) the user id of each group
    window: np.ndarray | None = None  # (G,) int; None = all 0

    @property
    def windows(self) -> np.ndarray:
        return self.window if self.window is not None else np.zeros(len(self.group), np.int64)

    def take(self, groups: np.ndarray) -> RankingGroups:
        """The rows of the chosen group indices (kept in their order)."""
        ends = np.cumsum(self.group)
        starts = ends - self.group
        spans = [np.arange(starts[g], ends[g]) for g in groups]
        rows = np.concatenate(spans) if spans else np.zeros(0, np.int64)
        return RankingGroups(
            self.features[rows],
            self.labels[rows],
            self.group[groups],
            self.users[groups],
            self.windows[groups],
        )

    def shard(self, rank: int, workers: int) -> RankingGroups:
        """Every ``workers``-th group from ``rank`` (whole groups: one worker's share)."""
        if workers == 1:
            return self
        return self.take(np.arange(rank, len(self.group), workers))

    def concat(self, other: RankingGroups) -> RankingGroups:
        """These groups followed by ``other``'s."""
        return RankingGroups(
            np.concatenate([self.features, other.features]),
            np.concatenate([self.labels, other.labels]),
            np.concatenate([self.group, other.group]),
            np.concatenate([self.users, other.users]),
            np.concatenate([self.windows, other.windows]),
        )

    def folds(self, fraction: float) -> np.ndarray:
        """(G,) fold of each group: users split by a stable hash of their id into folds of
        ``fraction`` each (the same users whichever features or candidates a run has, so
        runs compare); fold 0 is ``held_out``."""
        bucket = (self.users.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(1000)
        return (bucket // np.uint64(max(1, int(round(fraction * 1000))))).astype(np.int64)

    def held_out(self, fraction: float) -> np.ndarray:
        """(G,) bool: the groups of fold 0 (see ``folds``)."""
        return self.folds(fraction) == 0


def ranker_engine(cfg: PipelineConfig, data: RankingGroups) -> str:
    """Where the boosters train, "local" or "ray", for ``cfg.ranker_engine``; "auto" = Ray
    once the frame has more than ``cfg.ranker_ray_above_rows`` rows (the in-process DMatrix
    and histograms of such a frame take several times its size)."""
    if cfg.ranker_engine not in ("auto", "local", "ray"):
        raise ValueError(f"ranker_engine must be auto, local or ray, got {cfg.ranker_engine!r}")
    if cfg.ranker_engine == "auto":
        return "ray" if len(data.labels) > cfg.ranker_ray_above_rows else "local"
    return cfg.ranker_engine


def fit_boosters(
    data: RankingGroups,
    names: list[str],
    cfg: PipelineConfig,
    objectives: tuple[str, ...],
    device: str,
    shard: tuple[int, int] = (0, 1),
) -> tuple[Any, Any | None, dict]:
    """(final booster, fold 0's booster or None, info): the objective and number of trees
    chosen by cross-validation over label users, then one booster on every group.

    Each of ``objectives`` is trained once per fold of ``cfg.ranker_valid_frac`` of the users
    with early stopping on that fold; the NDCG@10 curves are averaged over folds and the best
    (objective, trees) kept (validation, never test). Why folds: a single held-out fifth is
    ~80 users on the demo, and its choice swung from 7 to 282 trees between two trainings on
    near-identical groups (test NDCG@10 0.19 vs 0.23); every user validating once is less
    noisy, and the final booster learns from every group. Fold 0's booster (trained without
    those users, cut to the chosen trees) is what ``fresh_slots`` is chosen with. Above
    ``cfg.ranker_cv_max_groups`` groups the folds are cut from a seeded sample of that many
    (the final booster still learns from all): boosting time grows with the rows, and the
    cross-validation is 5 fits per objective.

    ``shard`` = (rank, workers): this process trains on every ``workers``-th group from
    ``rank`` (XGBoost's collective, set up by Ray Train, joins the shards into one booster;
    groups stay whole because LambdaMART compares rows within a group). Every worker takes
    the same decisions: the validation curves are reduced over all shards.
    """
    import xgboost as xgb

    started = time.perf_counter()

    def train(objective, train_groups, valid_groups, rounds=None):
        return _train(
            xgb, objective, train_groups.shard(*shard),
            valid_groups.shard(*shard) if valid_groups is not None else None,
            names, cfg, device, rounds,
        )  # fmt: skip

    cv = data  # the groups the objective and trees are chosen on
    if len(data.group) > cfg.ranker_cv_max_groups:
        picked = np.random.default_rng(cfg.seed).choice(
            len(data.group), cfg.ranker_cv_max_groups, replace=False
        )
        cv = data.take(np.sort(picked))
    fold = cv.folds(cfg.ranker_valid_frac)
    trainable = cv.windows > 0  # older windows: training rows in every fold
    n_folds = int(fold.max()) + 1 if len(fold) else 0
    if len(cv.group) < 10 or n_folds < 2:  # too few users to validate on
        booster, _ = train(objectives[0], data, None)
        info = _info(device, objectives[0], {}, cfg.n_estimators, data)
        return booster, None, info | {"fit_seconds": round(time.perf_counter() - started, 1)}
    curves: dict[str, np.ndarray] = {}
    first: dict[str, Any] = {}  # objective -> fold 0's booster
    for objective in objectives:
        per_fold = []
        for f in range(n_folds):
            valid = (fold == f) & ~trainable
            if not valid.any():
                continue
            booster, curve = train(
                objective, cv.take(np.flatnonzero(~valid)), cv.take(np.flatnonzero(valid))
            )
            per_fold.append(curve)
            if f == 0:
                first[objective] = booster
        curves[objective] = _mean_curve(per_fold)
    objective = max(curves, key=lambda o: float(curves[o].max()))
    trees = int(np.argmax(curves[objective])) + 1
    booster, _ = train(objective, data, None, rounds=trees)
    tried = {o: float(c.max()) for o, c in curves.items()}
    info = _info(device, objective, tried, trees, data) | {"folds": n_folds}
    info |= {"cv_groups": int(len(cv.group)), "valid_groups": int((cv.windows == 0).sum())}
    info["fit_seconds"] = round(time.perf_counter() - started, 1)
    fold0 = first.get(objective)  # None: no fold-0 users, nobody to choose the slots on
    if fold0 is not None:
        fold0 = fold0[: min(trees, fold0.num_boosted_rounds())]
    return booster, fold0, info


def _dmatrix(xgb, data: RankingGroups, names: list[str]):
    matrix = xgb.DMatrix(data.features, label=data.labels, feature_names=safe_names(names))
    matrix.set_group(data.group)
    return matrix


def _train(
    xgb,
    objective: str,
    train: RankingGroups,
    valid: RankingGroups | None,
    names: list[str],
    cfg: PipelineConfig,
    device: str,
    rounds: int | None = None,
):
    """(booster, valid NDCG@10 per round — empty without ``valid``); early stopping on
    ``valid`` when given, else ``rounds`` (default ``cfg.n_estimators``) trees."""
    params = {
        "objective": objective,
        "eval_metric": "ndcg@10",
        "tree_method": "hist",
        "device": device,
        "eta": cfg.learning_rate,
        "max_depth": cfg.max_depth,
        "min_child_weight": cfg.min_child_weight,
        "subsample": cfg.subsample,
        "colsample_bytree": cfg.colsample_bytree,
        "seed": cfg.seed,
    }
    if objective.startswith("rank:"):
        params |= {"lambdarank_pair_method": "topk", "lambdarank_num_pair_per_sample": 32}
    history: dict = {}
    evals = [(_dmatrix(xgb, valid, names), "valid")] if valid is not None else []
    booster = xgb.train(
        params,
        _dmatrix(xgb, train, names),
        num_boost_round=rounds or cfg.n_estimators,
        evals=evals,
        evals_result=history,
        early_stopping_rounds=cfg.early_stopping_rounds if evals else None,
        verbose_eval=False,
    )
    return booster, np.asarray(history.get("valid", {}).get("ndcg@10", []), np.float64)


def _mean_curve(curves: list[np.ndarray]) -> np.ndarray:
    """The folds' validation curves averaged round by round; a fold that stopped early
    keeps its last value (early stopping ended it on a plateau or a decline)."""
    longest = max(len(c) for c in curves)
    padded = [np.pad(c, (0, longest - len(c)), mode="edge") for c in curves]
    return np.mean(padded, axis=0)


def _info(device: str, objective: str, tried: dict, trees: int, data: RankingGroups) -> dict:
    return {
        "device": device,
        "objective": objective,
        "valid_ndcg10_by_objective": tried,
        "trees": trees,
        "train_groups": int(len(data.group)),
        "valid_groups": int((data.windows == 0).sum()) if tried else 0,
        "rows": int(len(data.labels)),
        "positives": int(data.labels.sum()),
        "valid_ndcg10": tried.get(objective),
    }


def safe_names(names: list[str]) -> list[str]:
    """XGBoost refuses some characters in feature names (``[``, ``]``, ``<``)."""
    return [n.replace("[", "(").replace("]", ")").replace("<", "lt") for n in names]
