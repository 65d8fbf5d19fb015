"""The learned ranker: XGBoost LambdaMART (``rank:ndcg``) over (user, candidate) rows.

Why XGBoost: a well-kept gradient-boosting library with a listwise NDCG objective, missing
values handled natively (a source that did not propose an item leaves NaN), per-feature
contributions for explanations (``pred_contribs``), CUDA training when a GPU is present and a
Ray-distributed trainer for frames that outgrow a machine. Models are saved as XGBoost JSON
(no pickle). Training lives in ``recsys.ranking.boosting``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from recsys.core.device import pick_device
from recsys.ranking.boosting import RankingGroups, fit_boosters, ranker_engine, safe_names
from recsys.ranking.config import PipelineConfig

log = logging.getLogger(__name__)


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
    ) -> tuple[Ranker, Ranker]:
        """(final, without fold 0): see ``fit_boosters``; on Ray when ``cfg`` says so
        (``ranker_engine``, see ``recsys.ranking.ray_boost``), in this process otherwise."""
        objectives = objectives or cfg.objectives
        device = "cuda" if pick_device(None) == "cuda" else "cpu"
        engine = ranker_engine(cfg, data)
        if engine == "ray":
            from recsys.ranking.ray_boost import fit_on_ray

            final, fold0, info = fit_on_ray(data, names, cfg, objectives, device)
        else:
            final, fold0, info = fit_boosters(data, names, cfg, objectives, device)
            info["engine"] = "local"
        model = cls(final, names, info)
        if fold0 is None:
            return model, model
        return model, cls(fold0, names, {**info, "fold0_only": True})

    def predict(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0, np.float32)
        return np.asarray(self.booster.inplace_predict(features), np.float32)

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """(R, F) per-feature contributions (SHAP values) of each row's score; bias dropped."""
        import xgboost as xgb

        if not len(features):
            return np.zeros((0, len(self.names)), np.float32)
        d = xgb.DMatrix(features, feature_names=safe_names(self.names), nthread=1)
        return np.asarray(self.booster.predict(d, pred_contribs=True), np.float32)[:, :-1]

    def importance(self) -> dict[str, float]:
        """Total gain per feature (the report's "which features the ranker uses")."""
        gain = self.booster.get_score(importance_type="total_gain")
        by_safe = dict(zip(safe_names(self.names), self.names, strict=True))
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
