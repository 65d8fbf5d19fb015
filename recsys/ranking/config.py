"""PipelineConfig: every knob of the ranking pipeline, saved with it in the run.

How the defaults were chosen (never on a test split): the quotas and budget by the union's
candidate recall on the pipeline's own label chunk (the later part of the training data, see
``recsys.ranking.train``), the XGBoost schedule by early stopping on held-out label users of
that chunk, the rest are sizes (windows, caps) whose cost is stated next to them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Merge priority of the candidate sources (the first to propose an item owns its provenance).
# "content:<modality>" sources are inserted per modality the store has, after "tower".
DEFAULT_QUOTAS: dict[str, int] = {
    "ease": 120,
    "itemknn": 60,
    "als": 60,
    "tower": 80,
    "content": 40,  # per modality
    "fresh": 40,
    "recent_popularity": 20,
    "popularity": 20,
    "query": 100,  # only for requests with a text query
}


@dataclass
class PipelineConfig:
    """Candidate stage, features and ranker of one pipeline."""

    quotas: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    # Profile of "what the user likes now": the most recent likes (per-modality cosines, the
    # fresh source). Bounded so a request's cost does not grow with the history.
    recent_likes: int = 20
    recent_days: float = 30.0  # window of "popular recently", counted back from the frame's end
    fresh_max_count: int = 2  # items with at most this many likes are "fresh" (new titles)
    # Business rule: the best-scored fresh candidates take this many of the last places of a
    # list. None = chosen on validation by `fresh.choose_fresh_slots` among
    # ``fresh_slot_grid``: the most new-title recall whose held-out NDCG@10 stays within
    # ``fresh_tolerance`` of no slots. Why: the ranker puts new titles far down the full
    # catalog (demo new-title Recall@20 0.000) while ranking them best among themselves
    # (0.255 vs 0.156 for the best content-only model, new items only). The tolerance is a
    # product choice (how much accuracy new-title exposure may cost), not a fitted value.
    fresh_slots: int | None = None
    fresh_slot_grid: tuple[int, ...] = (0, 1, 2, 3)
    # Which fresh candidates take the slots: the ranker's best ("ranker") or the fresh
    # source's, by content similarity to the user's likes ("content"). The ranker has few
    # label examples of a new title (the label chunk holds ~1 % of them), so its order among
    # fresh titles may be no better than content's; chosen with ``fresh_slots`` when that is
    # None (validation), among ``fresh_order_grid``.
    fresh_order: str = "ranker"
    fresh_order_grid: tuple[str, ...] = ("ranker", "content")
    fresh_tolerance: float = 0.02
    # The ranker's labels are each user's most recent ``label_frac`` of the training frame; the
    # stage-1 models are fitted on the rest, then refitted on everything (train.py). 0.125 of
    # the part before the test cut is the evaluation's validation chunk (10 % of 80 %).
    label_frac: float = 0.125
    # Label windows: 1 = the most recent chunk only; w > 1 adds the w-1 chunks before it, each
    # with stage 1 fitted on what precedes it (train._add_label_windows) — more ranker
    # training requests for one more stage-1 fit per window. 1, chosen on MovieLens
    # validation (`python -m recsys.app.pipeline_sweep label_windows 1 2`): a second window
    # doubled the warm ranker's requests (428 -> 839) but lowered its held-out NDCG@10
    # 0.184 -> 0.169 (an older window's stage 1 saw less data, so its scores and counts sit
    # on another scale than at serving time); the cold ranker moved 0.423 -> 0.431.
    label_windows: int = 1
    # the ranker also learns from newcomers' requests (train.ranking_groups): onboarding with
    # this many first picks, and a text query standing for the user's taste
    cold_requests: bool = True
    onboarding_picks: int = 3
    ease_lambda: float = 500.0  # chosen on the label chunk by `tune_ease` in train.py
    ease_lambdas: tuple[float, ...] = (100.0, 250.0, 500.0, 1000.0, 2500.0)
    # EASE's closed form inverts an (m, m) matrix over the m items with likes: O(m³) time and
    # 4m² bytes for B (1.6 GB at 20k), and a request sums h of B's dense rows (h·m). Up to
    # this many items it is kept exact (every catalog so far: 1k-4k items); above, stage 1
    # skips EASE and says so in the log, and item-kNN (sparse) and ALS carry the
    # co-occurrence signal. Skipped, not pruned: pruning B to top-M neighbours still needs
    # the dense inverse first, which is what does not fit.
    ease_max_items: int = 20_000
    # The retrieval indexes (recsys.ranking.retrieval) as `index.config.IndexConfig` fields,
    # e.g. {"hnsw": {"ef_search": 128}}; {} = the kind by catalog size, default parameters.
    index: dict[str, Any] = field(default_factory=dict)
    knn_neighbours: int = 100
    als_factors: int = 64
    # The hybrid transformer tower as a source (FAISS over its item vectors) and a feature.
    # Off by default, decided on the demo's label-chunk validation: it raised the candidates'
    # recall 0.69 -> 0.79 but not the ranker's held-out NDCG@10 (0.157 vs 0.160, within the
    # noise of ~170 held-out users), and it costs two trainings of ~100-200 s per pipeline fit
    # on 2 CPU cores (stage 1 on the earlier part, then on everything). `pipeline.json`
    # {"tower": true} turns it on.
    tower: bool = False
    tower_overrides: dict[str, Any] = field(default_factory=dict)  # HybridConfig fields
    # XGBoost: each objective is trained and the best by NDCG@10 on held-out label users is
    # kept (``Ranker.fit``). On the demo's validation users pointwise logistic loss beat
    # LambdaMART (0.201 vs 0.186-0.188 over rank:ndcg pair settings, ~170 held-out users):
    # with a few hundred training groups the listwise objective overfits; both stay in the
    # race so larger data can choose LambdaMART. n_estimators is a cap: early stopping picks
    # the number of trees. Depth 4 / min_child_weight 50 won on the same validation users.
    objectives: tuple[str, ...] = ("rank:ndcg", "binary:logistic")
    # The query ranker (text queries with few or no likes) is listwise only: its requests are
    # about ordering one query's candidates. Pointwise loss scored level with it on held-out
    # label users (0.561 vs 0.554) but learnt a global popularity prior that put the same
    # popular titles first for every mood query (precision@10 0.3-0.7 on
    # tests/app/test_text_queries against >= 0.8 with rank:ndcg).
    query_objectives: tuple[str, ...] = ("rank:ndcg",)
    # The cold ranker (a few picks, no query): both objectives race on held-out label users.
    cold_objectives: tuple[str, ...] = ("rank:ndcg", "binary:logistic")
    n_estimators: int = 600
    max_depth: int = 4
    learning_rate: float = 0.05
    min_child_weight: float = 50.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    early_stopping_rounds: int = 60
    ranker_valid_frac: float = 0.2  # label users held out for early stopping
    max_label_users: int = 20_000  # cap on ranker training groups (time bound)
    # Cross-validation (objective, trees) runs on at most this many groups, a seeded sample;
    # the final booster trains on every group. A time bound, not a fitted value: the demo and
    # MovieLens stay whole, as do the 100k-item scale run's warm and cold rankers (3,201 and
    # 2,949 requests); its query ranker (15,570 text-query requests, 3.4M rows, 6 fits) took
    # ~17 of the 44 minutes of its `recsys train` before this cap.
    ranker_cv_max_groups: int = 5_000
    # Where the boosters train (``ranker.ranker_engine``): "local" (this process), "ray"
    # (Ray Train's XGBoostTrainer: ``ranker_ray_workers`` data-parallel workers on the cluster
    # RAY_ADDRESS names, or a local one), or "auto": Ray above ``ranker_ray_above_rows``
    # training rows. 50M rows x ~40 features is 8 GB as float32 before XGBoost's own copies;
    # below it one machine trains faster than Ray Train starts its workers (over a minute per job
    # on two shared cores: tests/ranking/test_ray_boost.py).
    ranker_engine: str = "auto"
    ranker_ray_workers: int = 2
    ranker_ray_cpus_per_worker: int = 1
    ranker_ray_above_rows: int = 50_000_000
    # Ray Train's storage for the workers' result (the boosters): a path every node can
    # read and write (s3://bucket/prefix on a real cluster); None = a temporary local folder,
    # right when the cluster's nodes share this machine's disk.
    ranker_ray_storage: str | None = None
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ease_lambdas"] = list(self.ease_lambdas)
        out["objectives"] = list(self.objectives)
        out["cold_objectives"] = list(self.cold_objectives)
        out["query_objectives"] = list(self.query_objectives)
        out["fresh_slot_grid"] = list(self.fresh_slot_grid)
        out["fresh_order_grid"] = list(self.fresh_order_grid)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown PipelineConfig fields: {sorted(unknown)}")
        data = dict(data)
        for name in (
            "ease_lambdas",
            "objectives",
            "cold_objectives",
            "query_objectives",
            "fresh_slot_grid",
            "fresh_order_grid",
        ):
            if name in data:
                data[name] = tuple(data[name])
        return cls(**data)

    def quota(self, source: str) -> int:
        """Quota of a source name; ``content:<m>`` sources share the "content" quota."""
        return self.quotas[source.split(":")[0]]
