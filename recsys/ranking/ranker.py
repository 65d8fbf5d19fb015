"""The learned ranker: XGBoost LambdaMART (``rank:ndcg``) over (user, candidate) rows.

Why XGBoost: a well-kept gradient-boosting library with a listwise NDCG objective, missing
values handled natively (a source that did not propose an item leaves NaN), per-feature
contributions for explanations (``pred_contribs``), CUDA training when a GPU is present and a
Ray-distributed trainer for frames that outgrow a machine. Models are saved as XGBoost JSON
(no pickle).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recsys.core.device import pick_device
from recsys.ranking.config import PipelineConfig

log = logging.getLogger(__name__)


@dataclass
class RankingGroups:
    """Training rows grouped by user: ``features`` (R, F), ``labels`` (R,), ``group`` sizes."""

    features: np.ndarray
    labels: np.ndarray
    group: np.ndarray  # (G,) rows per user, in row order
    users: np.ndarray  # (G,) the user id of each group

    def take(self, groups: np.ndarray) -> RankingGroups:
        """The rows of the chosen group indices (kept in their order)."""
        ends = np.cumsum(self.group)
        starts = ends - self.group
        rows = np.concatenate([np.arange(starts[g], ends[g]) for g in groups])
        return RankingGroups(
            self.features[rows], self.labels[rows], self.group[groups], self.users[groups]
        )

    def concat(self, other: RankingGroups) -> RankingGroups:
        """These groups followed by ``other``'s."""
        return RankingGroups(
            np.concatenate([self.features, other.features]),
            np.concatenate([self.labels, other.labels]),
            np.concatenate([self.group, other.group]),
            np.concatenate([self.users, other.users]),
        )

    def held_out(self, fraction: float) -> np.ndarray:
        """(G,) bool: the groups whose user falls in a stable ``fraction`` by id (the same
        users whichever features or candidates a run has, so runs compare)."""
        bucket = (self.users.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(1000)
        return bucket < int(round(fraction * 1000))


class Ranker:
    """A trained booster plus the feature names it was trained on (their order matters)."""

    def __init__(self, booster, names: list[str], info: dict):
        # per-request inference scores a few hundred rows: thread hand-offs cost more than
        # they save, and a server runs many requests side by side
        booster.set_param({"nthread": 1})
        self.booster = booster
        self.names = names
        self.info = info

    @classmethod
    def fit(
        cls,
        data: RankingGroups,
        names: list[str],
        cfg: PipelineConfig,
        objectives: tuple[str, ...] | None = None,
    ) -> Ranker:
        """Train each of ``objectives`` (default ``cfg.objectives``) with early stopping on a
        held-out share of the label users; keep the best by their NDCG@10 (validation, never
        test).

        The held-out users pick the objective and the number of trees; the booster trained
        on the rest is kept (refitting on all groups would be a second, unvalidated model).
        """
        import xgboost as xgb

        valid = data.held_out(cfg.ranker_valid_frac)
        if len(data.group) < 10 or valid.all():  # too few users to hold any out
            valid[:] = False
        n_valid = int(valid.sum())
        train = data.take(np.flatnonzero(~valid))
        dtrain = _dmatrix(xgb, train, names)
        dvalid = _dmatrix(xgb, data.take(np.flatnonzero(valid)), names) if n_valid else None
        device = "cuda" if pick_device(None) == "cuda" else "cpu"
        tried: dict[str, float | None] = {}
        best: tuple[float, object, str, int] | None = None
        for objective in objectives or cfg.objectives:
            booster, trees, score = _train_one(xgb, objective, dtrain, dvalid, cfg, device)
            tried[objective] = score
            if best is None or (score is not None and score > best[0]):
                best = (score if score is not None else -1.0, booster, objective, trees)
        assert best is not None, "PipelineConfig.objectives is empty"
        score, booster, objective, trees = best
        info = {
            "device": device,
            "objective": objective,
            "valid_ndcg10_by_objective": tried,
            "trees": trees,
            "train_groups": int(len(train.group)),
            "valid_groups": int(n_valid),
            "rows": int(len(data.labels)),
            "positives": int(data.labels.sum()),
            "valid_ndcg10": tried[objective],
        }
        return cls(booster, names, info)

    def predict(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0, np.float32)
        return np.asarray(self.booster.inplace_predict(features), np.float32)

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """(R, F) per-feature contributions (SHAP values) of each row's score; bias dropped."""
        import xgboost as xgb

        if not len(features):
            return np.zeros((0, len(self.names)), np.float32)
        d = xgb.DMatrix(features, feature_names=_safe(self.names), nthread=1)
        return np.asarray(self.booster.predict(d, pred_contribs=True), np.float32)[:, :-1]

    def importance(self) -> dict[str, float]:
        """Total gain per feature (the report's "which features the ranker uses")."""
        gain = self.booster.get_score(importance_type="total_gain")
        by_safe = dict(zip(_safe(self.names), self.names, strict=True))
        return {by_safe[k]: float(v) for k, v in gain.items()}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(directory / "ranker.json")
        meta = {"names": self.names, "info": self.info}
        (directory / "ranker_meta.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Ranker:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(directory / "ranker.json")
        booster.set_param({"device": "cpu"})  # inference on CPU: per request, tiny inputs
        meta = json.loads((directory / "ranker_meta.json").read_text())
        return cls(booster, meta["names"], meta["info"])


def _dmatrix(xgb, data: RankingGroups, names: list[str]):
    matrix = xgb.DMatrix(data.features, label=data.labels, feature_names=_safe(names))
    matrix.set_group(data.group)
    return matrix


def _train_one(xgb, objective: str, dtrain, dvalid, cfg: PipelineConfig, device: str):
    """(booster cut to its best iteration, trees, valid NDCG@10 or None without valid)."""
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
    evals = [(dvalid, "valid")] if dvalid is not None else []
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=cfg.n_estimators,
        evals=evals,
        evals_result=history,
        early_stopping_rounds=cfg.early_stopping_rounds if evals else None,
        verbose_eval=False,
    )
    curve = history.get("valid", {}).get("ndcg@10", [])
    best = int(np.argmax(curve)) if curve else cfg.n_estimators - 1
    return booster[: best + 1], best + 1, (float(curve[best]) if curve else None)


def _safe(names: list[str]) -> list[str]:
    """XGBoost refuses some characters in feature names (``[``, ``]``, ``<``)."""
    return [n.replace("[", "(").replace("]", ")").replace("<", "lt") for n in names]
