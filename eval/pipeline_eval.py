"""The pipeline row: train the production pipeline on the data before the test cut, save it as
a run, load it the way serving does, ask it for every test user, score what it returned.

Also reports the candidate stage: each source's recall at its quota and the union's recall
(the ceiling the ranker can reach).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from eval.protocol import EvalData, ModelResult, score_top
from recsys.core import metrics as M
from recsys.core.runs import Run
from recsys.core.splits import Split
from recsys.ranking import (
    PIPELINE,
    ContentSpace,
    PipelineConfig,
    RankingPipeline,
    RankRequest,
    fit_pipeline,
    load_pipeline,
)

NAME = "pipeline"


@dataclass
class PipelineRun:
    """What the pipeline row produced on one split."""

    result: ModelResult
    pipeline: RankingPipeline
    source_recall: dict[str, dict[str, float]] = field(default_factory=dict)
    lists: list = field(default_factory=list, repr=False)  # RankedList per test user


def evaluate_pipeline(
    split: Split,
    items: pl.DataFrame,
    content: dict[str, ContentSpace],
    test_data: EvalData,
    run_dir: Path,
    config: PipelineConfig | None = None,
    ks: tuple[int, ...] = (10, 20),
    item_vectors: np.ndarray | None = None,
    n_boot: int = 1000,
    log_fn: Callable[[str], None] = print,
) -> PipelineRun:
    """Fit on ``split.train_valid()`` with the production procedure, then score the test."""
    start = time.perf_counter()
    fitted = fit_pipeline(split.train_valid(), items, content, config, log_fn)
    run = Run(run_dir)
    fitted.save(run.model_dir(PIPELINE))
    run.write_manifest({"run_id": run.name, "purpose": "evaluation", "split": split.description})
    pipeline = load_pipeline(run)  # exactly what serving's snapshot does
    lists = recommend_all(pipeline, test_data.user_ids, max(ks))
    top = to_eval_indices(lists, pipeline, test_data, max(ks))
    result = score_top(top, test_data, NAME, ks, item_vectors, n_boot)
    result.params = {
        "ease_lambda": pipeline.info.get("ease_lambda"),
        "trees": (pipeline.ranker.info if pipeline.ranker else {}).get("trees"),
    }
    result.seconds = time.perf_counter() - start
    new = ~np.isin(test_data.item_vocab.ids, split.train_valid()["item_id"].unique().to_numpy())
    return PipelineRun(result, pipeline, source_recall(lists, pipeline, test_data, new), lists)


def recommend_all(
    pipeline: RankingPipeline, user_ids: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> list:
    """One ``recommend`` per user: the request serving builds for a known user without a
    session (its stored history is the fit frame's, exactly what serving's catalog holds).
    ``allowed`` (n,) bool over the pipeline's items restricts the lists (a filter)."""
    return [
        pipeline.recommend(RankRequest(user_id=int(u), k=k, explain=False, allowed=allowed))
        for u in user_ids
    ]


def to_eval_indices(lists: list, pipeline: RankingPipeline, data: EvalData, k: int) -> np.ndarray:
    """(U, k) indices into ``data.item_vocab`` of every list, -1 padded."""
    top = np.full((len(lists), k), -1, np.int64)
    for r, ranked in enumerate(lists):
        idx = data.item_vocab.index(ranked.item_ids[:k])
        top[r, : len(idx)] = idx
    return top


def source_recall(
    lists: list, pipeline: RankingPipeline, data: EvalData, new: np.ndarray | None = None
) -> dict[str, dict[str, float]]:
    """Mean per-user recall of test positives among each source's proposals (at its quota)
    and among the merged candidates (the union, at the candidate budget).

    With ``new`` ((n,) bool over ``data.item_vocab``: items absent from the fit frame), also
    the recall of the new-title positives alone (``new_recall``, over users having some):
    the ceiling of the new-title goal, whatever the ranker does.
    """
    relevant = data.relevant
    ids = data.item_vocab.ids
    new_ids = set(ids[new].tolist()) if new is not None else set()
    sums: dict[str, list[float]] = {}
    new_sums: dict[str, list[float]] = {}
    sizes: dict[str, list[int]] = {}
    for r, ranked in enumerate(lists):
        rel = ids[relevant.indices[relevant.indptr[r] : relevant.indptr[r + 1]]]
        if not len(rel):
            continue
        rel_new = np.asarray([i for i in rel.tolist() if i in new_ids], np.int64)
        quota_lists = {s: p[: pipeline.cfg.quota(s)] for s, p in ranked.proposals.items()}
        for source, proposed in {**quota_lists, "union": ranked.candidates}.items():
            sums.setdefault(source, []).append(float(np.isin(rel, proposed).mean()))
            sizes.setdefault(source, []).append(len(proposed))
            if len(rel_new):
                new_sums.setdefault(source, []).append(float(np.isin(rel_new, proposed).mean()))
    return {
        s: {
            "recall": float(np.mean(v)),
            "new_recall": float(np.mean(new_sums[s])) if s in new_sums else float("nan"),
            "mean_size": float(np.mean(sizes[s])),
            "quota": float(pipeline.cfg.quota(s)) if s != "union" else float("nan"),
        }
        for s, v in sums.items()
    }


def new_item_slice(
    results: list[ModelResult],
    data: EvalData,
    fit_frame: pl.DataFrame,
    k: int = 20,
    n_boot: int = 1000,
) -> dict:
    """Recall@k over test positives on items absent from the fit frame, per model.

    Only users with such a positive count; each list is the model's full-catalog list.
    """
    fitted = np.zeros(len(data.item_vocab), bool)
    idx = data.item_vocab.index(fit_frame["item_id"].unique().to_numpy())
    fitted[idx[idx >= 0]] = True
    rel = data.relevant.tocsr(copy=True)
    rel.data = rel.data * (~fitted[rel.indices])  # keep only new-item positives
    rel.eliminate_zeros()
    n_rel = np.diff(rel.indptr)
    users = np.flatnonzero(n_rel > 0)
    out: dict = {
        "k": k,
        "users": int(len(users)),
        "positives": int(n_rel.sum()),
        "new_items": int((~fitted).sum()),
        "models": {},
    }
    if not len(users):
        return out
    for r in results:
        hits = M.hits_matrix(r.top[users, :k], rel[users])
        recall = hits.sum(1) / n_rel[users]
        lo, hi = M.bootstrap_ci(recall, n_boot)
        out["models"][r.name] = {"mean": float(recall.mean()), "lo": lo, "hi": hi}
    return out


def paired_difference(
    a: ModelResult, b: ModelResult, metric: str = "ndcg@10", n_boot: int = 1000
) -> dict:
    """Mean per-user difference a − b with its paired bootstrap 95 % CI (same users)."""
    diff = a.per_user[metric] - b.per_user[metric]
    lo, hi = M.bootstrap_ci(diff, n_boot)
    return {
        "a": a.name,
        "b": b.name,
        "metric": metric,
        "mean": float(diff.mean()),
        "lo": lo,
        "hi": hi,
        "ratio": a.mean(metric) / max(b.mean(metric), 1e-12),
    }
