"""Choosing ``fresh_slots`` on validation: how many of a list's last places go to new titles.

The ranker learns that a title nobody liked yet is rarely liked next, so new titles stay below
the popular warm ones in a full-catalog list. Reserving the last places for the best-scored
fresh candidates trades some accuracy for new-title exposure; this picks the trade on the
held-out label users (never the test): the most new-title recall@20 whose NDCG@10 stays within
``cfg.fresh_tolerance`` of the no-slot list.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from recsys.core import metrics as M
from recsys.core.interactions import IdVocab, positives, user_item_matrix
from recsys.ranking.config import PipelineConfig
from recsys.ranking.pipeline import RankingPipeline, RankRequest


def choose_fresh_slots(
    early: RankingPipeline, later: pl.DataFrame, users: np.ndarray, cfg: PipelineConfig
) -> tuple[int, str, dict[str, dict[str, float]]]:
    """(slots, order, {"<slots> by <order>": {"ndcg@10", "new_recall@20"}}) on ``users``'
    label chunk, over ``cfg.fresh_slot_grid`` × ``cfg.fresh_order_grid`` (0 slots once)."""
    target = positives(later).filter(pl.col("user_id").is_in(users.tolist()))
    vocab = IdVocab.from_ids(target["user_id"])
    if not len(vocab):
        return 0, cfg.fresh_order, {}
    relevant = user_item_matrix(target, vocab, early.vocab, weight=None)
    fresh = early.stage1.facts.likes <= cfg.fresh_max_count
    new_rel = relevant.multiply(fresh[None, :]).tocsr()
    has_new = np.diff(new_rel.indptr) > 0
    scores: dict[str, dict[str, float]] = {}
    choices: dict[str, tuple[int, str]] = {}
    for slots in cfg.fresh_slot_grid:
        for order in cfg.fresh_order_grid if slots else cfg.fresh_order_grid[:1]:
            early.cfg = replace(cfg, fresh_slots=slots, fresh_order=order)
            top = np.full((len(vocab), 20), -1, np.int64)
            for r, user in enumerate(vocab.ids):
                ranked = early.recommend(RankRequest(user_id=int(user), k=20, explain=False))
                idx = early.vocab.index(ranked.item_ids)
                top[r, : len(idx)] = idx
            ndcg = M.accuracy(top, relevant, (10,))["ndcg@10"].mean()
            new = M.accuracy(top[has_new], new_rel[has_new], (20,))["recall@20"]
            key = f"{slots} by {order}" if slots else "0"
            choices[key] = (slots, order)
            scores[key] = {
                "ndcg@10": float(ndcg),
                "new_recall@20": float(new.mean()) if len(new) else 0.0,
            }
    early.cfg = cfg
    floor = (1 - cfg.fresh_tolerance) * scores["0"]["ndcg@10"] if "0" in scores else -1.0
    allowed = [k for k in scores if scores[k]["ndcg@10"] >= floor]
    best = max(allowed, key=lambda k: (scores[k]["new_recall@20"], -choices[k][0]))
    return choices[best][0], choices[best][1], scores
