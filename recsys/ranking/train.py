"""THE training procedure of the ranking pipeline (`recsys train` on all data, `recsys evaluate`
on the part before the test cut — the same function).

1. Split the frame per user in time: the most recent ``label_frac`` of each user's
   interactions is the label chunk, the rest the earlier part (the evaluation's validation
   rule, so the ranker learns what the test asks: the next chunk of a user's likes).
2. Fit stage 1 on the earlier part; EASE's λ is picked here by NDCG@10 on the label chunk.
3. For every label user, ask the (ranker-less) pipeline for candidates and features — the
   serving path — and label the candidates the user liked in the label chunk. Items first
   seen in the label chunk are the ranker's examples of new titles.
4. Train LambdaMART on those groups (early stopping on held-out label users).
5. Refit stage 1 on the whole frame and keep the ranker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import polars as pl

from recsys.core import metrics as M
from recsys.core.interactions import IdVocab, positives, user_item_matrix
from recsys.core.splits import per_user_temporal
from recsys.models.base import top_k
from recsys.models.ease import EASE
from recsys.ranking.boosting import RankingGroups
from recsys.ranking.config import PipelineConfig
from recsys.ranking.fresh import choose_fresh_slots
from recsys.ranking.pipeline import COLD, QUERY, WARM, RankingPipeline, RankRequest
from recsys.ranking.ranker import Ranker
from recsys.ranking.stage1 import ContentSpace, ease_fits, fit_stage1

log = logging.getLogger(__name__)
Log = Callable[[str], None]


def label_split(frame: pl.DataFrame, label_frac: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(earlier, label chunk): each user's last ``label_frac`` by time is the label chunk."""
    split = per_user_temporal(frame, test_frac=label_frac, valid_frac=0.0)
    # the split keeps a one-row valid chunk even at valid_frac=0: it is earlier data too
    return split.train_valid(), split.test


def fit_pipeline(
    frame: pl.DataFrame,
    items: pl.DataFrame,
    content: dict[str, ContentSpace],
    cfg: PipelineConfig | None = None,
    log_fn: Log = log.info,
) -> RankingPipeline:
    """Train the whole pipeline on ``frame`` (canonical interactions) — see the module doc.

    ``items`` is the catalog's items table (ids, titles, years, genres); ``content`` the
    per-modality vectors in sorted ``items.item_id`` order, as known at the frame's cut-off.
    """
    cfg = cfg or PipelineConfig()
    start = time.perf_counter()
    items, vocab, titles = _catalog(items)
    earlier, later = label_split(frame, cfg.label_frac)
    lam, lam_scores = cfg.ease_lambda, dict[str, float]()
    if ease_fits(earlier, cfg, log_fn):  # else stage 1 has no EASE to tune
        lam, lam_scores = tune_ease(earlier, later, vocab, cfg.ease_lambdas)
        log_fn(f"pipeline: EASE λ={lam:g} on the label chunk ({_fmt(lam_scores)})")
    early = RankingPipeline(
        fit_stage1(earlier, items, vocab, content, cfg, lam, log_fn), None, cfg, titles
    )
    groups, recall = ranking_groups(early, later, cfg)
    if WARM not in groups:
        raise ValueError("no label user has a liked item among its candidates: too little data")
    groups = _add_label_windows(groups, earlier, items, vocab, content, titles, cfg, lam, log_fn)
    rankers, fold0 = {}, {}
    for kind, data in groups.items():
        log_fn(f"pipeline: {kind} ranker on {len(data.group)} requests, {len(data.labels)} rows")
        objectives = {QUERY: cfg.query_objectives, COLD: cfg.cold_objectives}.get(
            kind, cfg.objectives
        )
        rankers[kind], fold0[kind] = Ranker.fit(data, early.names, cfg, objectives)
        log_fn(f"pipeline: {kind} ranker {rankers[kind].info}")
    log_fn(f"pipeline: candidate recall of the label users' requests {recall:.3f}")
    slot_scores: dict = {}
    if cfg.fresh_slots is None:
        early.rankers = fold0  # trained without the users the slots are chosen on
        held = groups[WARM].users[groups[WARM].held_out(cfg.ranker_valid_frac)]
        slots, order, slot_scores = choose_fresh_slots(early, later, held, cfg)
        cfg = replace(cfg, fresh_slots=slots, fresh_order=order)
        log_fn(f"pipeline: fresh_slots={slots} by {order} on held-out label users ({slot_scores})")
    full = fit_stage1(frame, items, vocab, content, cfg, lam, log_fn)
    info = {
        "ease_lambda": lam,
        "ease_valid_ndcg10": lam_scores,
        "label_users": int(len(groups[WARM].group)),
        "label_windows": cfg.label_windows,
        "label_candidate_recall": recall,
        "rankers": {kind: r.info for kind, r in rankers.items()},
        "fresh_slots": {
            "chosen": f"{cfg.fresh_slots} by {cfg.fresh_order}" if cfg.fresh_slots else "0",
            "valid": slot_scores,
        },
        "frame": {"interactions": frame.height, "earlier": earlier.height, "label": later.height},
        "fit_seconds": round(time.perf_counter() - start, 1),
    }
    return RankingPipeline(full, rankers, cfg, titles, info)


def _add_label_windows(
    groups: dict[str, RankingGroups],
    earlier: pl.DataFrame,
    items: pl.DataFrame,
    vocab: IdVocab,
    content: dict[str, ContentSpace],
    titles: list[str],
    cfg: PipelineConfig,
    lam: float,
    log_fn: Log,
) -> dict[str, RankingGroups]:
    """More training requests from older label windows (``cfg.label_windows`` > 1).

    Window w's labels are each user's chunk before window w-1's, stage 1 fitted on what
    precedes it: the same temporal rule one step back, never anything later. Older windows
    only ever train (``RankingGroups.window``), so the folds judge the same requests whatever
    the number of windows (and the choice compares across settings); fold 0's users' older
    windows are dropped, so the model ``fresh_slots`` is chosen with never saw those users.
    """
    for window in range(1, cfg.label_windows):
        earlier, later = label_split(earlier, cfg.label_frac)
        if not earlier.height or not later.height:
            break
        past = RankingPipeline(
            fit_stage1(earlier, items, vocab, content, cfg, lam, log_fn), None, cfg, titles
        )
        more, recall = ranking_groups(past, later, cfg)
        log_fn(f"pipeline: label window {window}: candidate recall {recall:.3f}")
        for kind, data in more.items():
            keep = np.flatnonzero(~data.held_out(cfg.ranker_valid_frac))
            if len(keep):
                data = data.take(keep)
                data.window = np.full(len(data.group), window)  # trains, never validates
                groups[kind] = groups[kind].concat(data) if kind in groups else data
    return groups


def refresh_pipeline(
    previous: RankingPipeline,
    frame: pl.DataFrame,
    items: pl.DataFrame,
    content: dict[str, ContentSpace],
    log_fn: Log = log.info,
) -> RankingPipeline:
    """`train --update`: stage 1 refitted on ``frame`` (tower warm-started), ranker kept.

    The content modalities must be the ones the ranker was trained with (its columns).
    """
    if sorted(content) != previous.modalities:
        raise ValueError(
            f"content modalities changed ({previous.modalities} -> {sorted(content)}) since "
            "the previous run: run `recsys train` without --update"
        )
    items, vocab, titles = _catalog(items)
    cfg, lam = previous.cfg, float(previous.info.get("ease_lambda", previous.cfg.ease_lambda))
    stage1 = fit_stage1(frame, items, vocab, content, cfg, lam, log_fn, previous.stage1.tower)
    info = {**previous.info, "frame": {"interactions": frame.height}}
    return RankingPipeline(stage1, previous.rankers, cfg, titles, info)


def tune_ease(
    earlier: pl.DataFrame, later: pl.DataFrame, vocab: IdVocab, lambdas: tuple[float, ...]
) -> tuple[float, dict[str, float]]:
    """λ with the best NDCG@10 on the label chunk (validation: the test is never looked at)."""
    target = positives(later)
    users = IdVocab.from_ids(target["user_id"])
    relevant = user_item_matrix(target, users, vocab, weight=None)
    hist = user_item_matrix(positives(earlier), users, vocab, weight=None)
    seen = user_item_matrix(earlier.select("user_id", "item_id").unique(), users, vocab, None)
    scores: dict[str, float] = {}
    if not len(users):
        return float(lambdas[len(lambdas) // 2]), scores
    for lam in lambdas:
        model = EASE.fit(earlier, vocab, lam=lam)
        top = top_k(model.score(np.zeros(len(users), np.int64), hist), 10, seen)
        scores[f"{lam:g}"] = float(M.accuracy(top, relevant, (10,))["ndcg@10"].mean())
    best = max(scores, key=lambda k: scores[k])
    return float(best), scores


def ranking_groups(
    pipeline: RankingPipeline, later: pl.DataFrame, cfg: PipelineConfig
) -> tuple[dict[str, RankingGroups], float]:
    """Per ranker (WARM, COLD, QUERY; one with no requests is absent): feature rows and
    like-labels of every label user's candidates; and the union's recall over the users'
    own requests.

    Besides each user's own request, ``cold_requests`` adds the requests a newcomer makes,
    labelled with the same later likes: a few first picks only (onboarding), and a text
    query standing for what they want next (the mean text vector of those later likes, no
    history: what a mood query is to the features). Without them the ranker never sees a
    request with no collaborative signal and ranks such requests by popularity.

    Text-query requests train a ranker of their own: a mood is built from the very titles
    that label it, so closeness to the query is nearly the answer there — a ranker sharing
    those groups with the few-picks requests learnt to wait for a query and ranked users with
    a handful of likes and no query far below ALS (demo NDCG@10 0.015 vs 0.146).
    """
    target = positives(later)
    liked = target.group_by("user_id").agg(pl.col("item_id"))
    rows = liked.sample(fraction=1.0, shuffle=True, seed=cfg.seed) if liked.height else liked
    if rows.height > cfg.max_label_users:
        rows = rows.head(cfg.max_label_users)
    parts: dict[str, list[tuple[np.ndarray, np.ndarray, int]]] = {WARM: [], COLD: [], QUERY: []}
    found = total = 0
    for user_id, items in rows.iter_rows():
        wanted = np.asarray(items, np.int64)
        for n, req in enumerate(_requests(pipeline, int(user_id), wanted, cfg)):
            c = pipeline.candidates(req)
            y = np.isin(pipeline.vocab.ids[c.items], wanted).astype(np.float32)
            if n == 0:  # the user's own request: what candidate recall is about
                found += int(y.sum())
                total += len(wanted)
            kind = pipeline.ranker_kind(c.profile)
            if 0 < y.sum() < len(y):  # otherwise nothing to order: no gradient
                parts[kind].append((c.features, y, int(user_id)))
    groups = {
        kind: RankingGroups(
            np.concatenate([p[0] for p in rows_]),
            np.concatenate([p[1] for p in rows_]),
            np.asarray([len(p[1]) for p in rows_]),
            np.asarray([p[2] for p in rows_]),
        )
        for kind, rows_ in parts.items()
        if rows_
    }
    return groups, found / max(total, 1)


def _requests(
    pipeline: RankingPipeline, user_id: int, wanted: np.ndarray, cfg: PipelineConfig
) -> list[RankRequest]:
    """The user's own request, then (``cfg.cold_requests``) onboarding and text-mood ones."""
    h = pipeline.stage1.histories
    liked = h.liked.get(user_id, np.zeros(0, np.int64))
    if not len(liked):
        return []  # no earlier likes: a cold user, not a ranking example
    ids = pipeline.vocab.ids
    seen = tuple(ids[h.seen[user_id]].tolist())  # a newcomer "has seen" the same titles
    out = [RankRequest(user_id=user_id, explain=False)]
    if not cfg.cold_requests:
        return out
    picks = tuple(ids[liked[: cfg.onboarding_picks]].tolist())
    out.append(RankRequest(history=picks, seen=seen, explain=False))
    text = pipeline.stage1.content.get("text")
    targets = pipeline.vocab.index(wanted)
    rows = targets[text.present[targets]] if text is not None else targets[:0]
    if len(rows):
        # a mood query describes what the user is about to want: the text of the titles
        # they liked next stands for it, and the ranker learns how closeness to a query and
        # what people actually liked combine (the labels are those titles)
        mood = text.matrix[rows].mean(axis=0)  # type: ignore[union-attr]
        mood = mood / max(float(np.linalg.norm(mood)), 1e-12)
        out.append(RankRequest(seen=seen, query=mood, explain=False))
    return out


def _catalog(items: pl.DataFrame) -> tuple[pl.DataFrame, IdVocab, list[str]]:
    """Items sorted by id, their vocabulary and display titles: the pipeline's item order."""
    items = items.sort("item_id")
    vocab = IdVocab(items["item_id"].to_numpy().astype(np.int64))
    titles = [t or f"item {i}" for t, i in zip(items["title"], items["item_id"], strict=True)]
    return items, vocab, titles


def _fmt(scores: dict[str, float]) -> str:
    return ", ".join(f"{k}: {v:.4f}" for k, v in scores.items())
