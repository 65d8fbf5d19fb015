"""Training of the hybrid ranker: full retrain and warm start (``init``), returning the parts
``HybridRecommender`` is assembled from (``fit_hybrid`` / ``update_hybrid`` there).

Loss: softmax over the whole catalog when it has at most ``full_softmax_max_items`` items
(exact, and on 2k-10k items one (M, N) matmul per step is cheap); otherwise sampled softmax over
the batch's distinct targets with the logQ correction (subtract log of each item's sampling
frequency so popular items are not over-penalised as negatives). Positions are weighted by
``positive_weight`` (ratings below 3.5 never become targets).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from recsys.core.device import pick_device
from recsys.core.interactions import IdVocab, positives, user_item_matrix
from recsys.models.hybrid.config import HybridConfig
from recsys.models.hybrid.data import (
    Sequences,
    Windows,
    build_sequences,
    make_windows,
    seen_matrix,
    temporal_split,
)
from recsys.models.hybrid.encode import encode_users, item_vectors
from recsys.models.hybrid.evaluate import ValidSet, evaluate
from recsys.models.hybrid.rescorer import FEATURES, Rescorer, content_unit, ndcg_at_k

if TYPE_CHECKING:  # annotation only: the recommender is assembled from what train returns
    from recsys.models.hybrid.recommender import HybridRecommender

Log = Callable[[str], None]


@dataclass
class Trained:
    """What one training run produces: a ``HybridRecommender``'s constructor arguments."""

    model: Any  # HybridModel (torch import stays lazy), on the CPU in eval mode
    items: IdVocab
    users: IdVocab
    sequences: Sequences  # histories including the held-out interactions
    lineage: dict[str, Any]
    rescorer: Rescorer | None


def train(
    interactions: pl.DataFrame,
    item_ids: np.ndarray,
    content: np.ndarray,
    config: HybridConfig | None = None,
    valid: pl.DataFrame | None = None,
    log: Log = print,
    *,
    user_text: tuple[np.ndarray, np.ndarray] | None = None,
    init: HybridRecommender | None = None,
    since: datetime | None = None,
    device: str | None = None,
) -> Trained:
    """Train with validation-based early stopping (arguments: see ``fit_hybrid``)."""
    import torch

    cfg = config or (init.config if init is not None else HybridConfig())
    device = device or pick_device()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    start = time.perf_counter()
    items, content = _sorted_items(item_ids, content)
    known = interactions.filter(pl.col("item_id").is_in(items.ids))
    if known.height < interactions.height:
        log(f"skipping {interactions.height - known.height:,} interactions of unknown items")
    if valid is None:
        train_df, valid_df = temporal_split(
            known, cfg.valid_last_n, cfg.valid_min_history, cfg.valid_frac
        )
    else:
        train_df, valid_df = known, valid.filter(pl.col("item_id").is_in(items.ids))
    all_df = pl.concat([train_df, valid_df], how="vertical_relaxed")
    user_ids = np.unique(all_df["user_id"].to_numpy())
    if init is not None:
        user_ids = np.union1d(user_ids, init.user_vocab.ids)
    users = IdVocab.from_ids(user_ids)
    text = _user_text_rows(user_text, users)

    if init is None:
        from recsys.models.hybrid.model import HybridModel

        t = None if text is None else (torch.from_numpy(text[0]), torch.from_numpy(text[1]))
        model = HybridModel(cfg, torch.from_numpy(content), len(users), *(t or (None, None)))
    else:
        grown = copy.deepcopy(init)  # the warm start never mutates ``init``
        grown.model.cfg = cfg
        grown.grow(items.ids, content, users.ids, text)
        model = grown.model
    # Items whose ID row a warm-started model learned: its untrained rows were zeroed at its fit
    # and new rows start at zero, so "non-zero" is exactly "learned". A fresh model has none.
    prior = np.zeros(len(items), bool)
    if init is not None:
        prior = model.item_id.weight.detach().abs().sum(1).numpy() > 0
    seqs = build_sequences(train_df, users, items)
    windows = make_windows(seqs, cfg.max_len)
    sched: dict[str, Any] = {
        "max_epochs": cfg.max_epochs,
        "lr": cfg.lr,
        "eval_every": cfg.eval_every,
    }
    if init is not None and since is not None:
        windows = _new_plus_replay(windows, since, cfg.replay_fraction, rng, log)
        per_epoch = max(1, -(-len(windows) // cfg.batch_size))
        sched = {"max_epochs": cfg.update_max_epochs, "lr": cfg.lr * cfg.update_lr_scale,
                 "eval_every": min(cfg.eval_every, per_epoch), "eval_first": True}  # fmt: skip
    held = user_item_matrix(positives(valid_df), users, items, weight=None)
    vset = ValidSet.build(held, seen_matrix(train_df, users, items), seqs, cfg.max_len)

    n_params = sum(p.numel() for p in model.parameters())
    log(f"hybrid: {n_params / 1e6:.2f}M parameters, {len(items):,} items, {len(users):,} users, "
        f"{len(windows):,} windows, {len(vset):,} valid users, device {device}")  # fmt: skip
    best = _train_loop(model, windows, vset, cfg, device, rng, log, **sched)
    model.load_state_dict(best["state"])
    _zero_untrained_items(model, windows, prior)
    model.cpu().eval()
    rescore = None
    if cfg.rescore:
        rescore = _fit_rescorer(model, items, users, train_df, valid_df, all_df, content, cfg, log)
    ts = all_df["timestamp"].max()
    lineage = {
        "interactions": all_df.height,
        "train_interactions": train_df.height,
        "valid_interactions": valid_df.height,
        "items": len(items),
        "users": len(users),
        "items_with_content": int((np.abs(content).sum(1) > 0).sum()),
        "last_interaction_at": ts.isoformat() if isinstance(ts, datetime) else None,
        "warm_start": init is not None,
        "since": since.isoformat() if since is not None else None,
        "best_step": best["step"],
        "best_valid_ndcg10": best["ndcg"],
        "parameters": n_params,
        "device": device,
        "train_seconds": round(time.perf_counter() - start, 2),
        "windows": len(windows),
        "steps": best["steps"],
        "trained_positions": best["positions"],
        "loop_seconds": round(best.get("loop_seconds", 0.0), 2),
        "rescorer_weights": None
        if rescore is None
        else dict(zip(FEATURES, map(float, rescore.weights), strict=True)),
    }
    return Trained(model, items, users, build_sequences(all_df, users, items), lineage, rescore)


def _fit_rescorer(model, items, users, train_df, valid_df, all_df, content, cfg, log):
    """Blend weights fitted on the held-out positives (the model never trained on them),
    with EASE/popularity from ``train_df``; the returned statistics are refitted on all data."""
    x_train = user_item_matrix(positives(train_df), users, items, weight=None)
    held = user_item_matrix(positives(valid_df), users, items, weight=None)
    val = np.flatnonzero(np.diff(held.indptr) > 0)
    if not len(val):
        log("rescorer: no held-out positives, tower scores only")
        return None
    rng = np.random.default_rng(cfg.seed)
    if len(val) > cfg.rescore_max_users:
        val = np.sort(rng.choice(val, cfg.rescore_max_users, replace=False))
    seqs = build_sequences(train_df, users, items)
    iv = item_vectors(model)  # (N, D+1)
    dot = encode_users(model, iv, val, [seqs.row(u) for u in val], cfg.max_len) @ iv.T
    stats = Rescorer.statistics(x_train, cfg.ease_lambda, cfg.ease_topk)
    feats = stats.features(dot, x_train[val], content_unit(content))  # (F, V, N)
    seen = seen_matrix(train_df, users, items)[val]
    base = ndcg_at_k(dot, held[val].toarray() > 0, seen.toarray() > 0)
    ndcg = stats.fit_weights(feats, held[val], seen)
    if cfg.cold_tolerance > 0:
        ndcg = stats.boost_cold(feats, held[val], seen, cfg.cold_tolerance)
    weights = ", ".join(f"{n} {w:g}" for n, w in zip(FEATURES, stats.weights, strict=True))
    log(f"rescorer: held-out NDCG@10 {base:.3f} (towers) -> {ndcg:.3f} (blend: {weights})")
    final = Rescorer.statistics(
        user_item_matrix(positives(all_df), users, items, weight=None),
        cfg.ease_lambda,
        cfg.ease_topk,
    )
    final.weights = stats.weights
    return final


def _train_loop(
    model, windows: Windows, vset: ValidSet, cfg, device, rng, log, *,
    max_epochs: int, lr: float, eval_every: int, eval_first: bool = False,
):  # fmt: skip
    import torch
    import torch.nn.functional as F

    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") else None
    full = model.n_items <= cfg.full_softmax_max_items
    counts = np.bincount(windows.targets[windows.targets >= 0], minlength=model.n_items)
    logq = torch.from_numpy(np.log((counts + 1.0) / (counts.sum() + model.n_items))).to(device)
    best: dict[str, Any] = {
        "ndcg": -1.0,
        "step": 0,
        "state": _state(model),
        "positions": 0,
        "steps": 0,
    }
    started = time.perf_counter()
    step, bad = 0, 0
    losses: list[float] = []

    def check() -> bool:
        nonlocal bad
        loss, ndcg = evaluate(model, vset, device)
        train = float(np.mean(losses)) if losses else float("nan")
        log(f"step {step}: train loss {train:.2f}, valid loss {loss:.2f}, "
            f"valid NDCG@10 {ndcg:.3f}")  # fmt: skip
        losses.clear()
        if np.isnan(ndcg) or ndcg > best["ndcg"]:
            best.update(ndcg=ndcg, step=step, state=_state(model))
            bad = 0
        else:
            bad += 1
        return bad >= cfg.patience

    if eval_first and len(windows):
        check()  # the warm-started model as it is: an update must beat it to replace it
    for _epoch in range(max_epochs):
        if not len(windows):
            break
        order = rng.permutation(len(windows))
        for lo in range(0, len(order), cfg.batch_size):
            b = windows.subset(order[lo : lo + cfg.batch_size])
            users, tokens, targets, weights = (
                torch.from_numpy(a).to(device) for a in (b.users, b.tokens, b.targets, b.weights)
            )
            keep = (torch.rand(model.n_items, device=device) >= cfg.id_dropout).float()
            with amp or _null():
                items = model.item_vectors(keep)  # (N, D+1)
                h = model.encode(users, tokens, items)  # (B, T, D+1)
                m = targets >= 0
                h, tgt, w = h[m], targets[m], weights[m]  # (M, D+1), (M,), (M,)
                if full:
                    logits = h @ items.T  # (M, N)
                else:
                    cand, tgt = torch.unique(tgt, return_inverse=True)
                    logits = h @ items[cand].T - logq[cand]  # (M, C)
                loss = (F.cross_entropy(logits.float(), tgt, reduction="none") * w).sum() / w.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            step += 1
            best["positions"] += len(tgt)
            best["steps"] = step
            best["loop_seconds"] = time.perf_counter() - started
            if step % eval_every == 0 and check():
                return best
    if losses or step == 0:
        check()
    return best


def _state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _sorted_items(item_ids, content) -> tuple[IdVocab, np.ndarray]:
    item_ids = np.asarray(item_ids, np.int64)
    content = np.asarray(content, np.float32)
    if content.ndim != 2 or len(content) != len(item_ids):
        raise ValueError(f"content must be (len(item_ids)={len(item_ids)}, D), got {content.shape}")
    if len(np.unique(item_ids)) != len(item_ids):
        raise ValueError("item_ids contains duplicates")
    order = np.argsort(item_ids)
    return IdVocab(item_ids[order]), content[order]


def _user_text_rows(user_text, users: IdVocab):
    if user_text is None:
        return None
    ids, vectors = np.asarray(user_text[0], np.int64), np.asarray(user_text[1], np.float32)
    rows = np.zeros((len(users), vectors.shape[1]), np.float32)
    mask = np.zeros(len(users), bool)
    idx = users.index(ids)
    ok = idx >= 0
    rows[idx[ok]], mask[idx[ok]] = vectors[ok], True
    return rows, mask


def _new_plus_replay(windows: Windows, since: datetime, fraction, rng, log) -> Windows:
    since_us = int(since.timestamp() * 1_000_000)
    new = np.flatnonzero(windows.last_time > since_us)
    old = np.flatnonzero(windows.last_time <= since_us)
    replay = rng.choice(old, size=min(len(old), int(round(fraction * len(old)))), replace=False)
    log(f"update: {len(new):,} windows with new interactions + {len(replay):,} replayed")
    return windows.subset(np.sort(np.concatenate([new, replay])))


def _zero_untrained_items(model, windows: Windows, prior: np.ndarray) -> None:
    """Zero the ID rows of items never a target (now or, ``prior``, in a warm-started model).

    Such a row learned only "never chosen" (full softmax pushes it down as a negative); at zero,
    a cold item is placed by its content alone.
    """
    import torch

    trained = prior.copy()
    trained[windows.targets[windows.targets >= 0]] = True
    with torch.no_grad():
        model.item_id.weight[torch.from_numpy(~trained).to(model.item_id.weight.device)] = 0.0
