"""Breakdowns of finished results: by user activity, goal checks, example users."""

from __future__ import annotations

import numpy as np

from eval.experiment import SplitResults

BUCKET_EDGES = (1, 6, 21, 51)  # history sizes [1-5], [6-20], [21-50], [51+]


def bucket_labels(edges: tuple[int, ...] = BUCKET_EDGES) -> list[str]:
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [*labels, f"{edges[-1]}+"]


def activity_buckets(
    res: SplitResults, metric: str = "ndcg@10", edges: tuple[int, ...] = BUCKET_EDGES
) -> dict:
    """Mean ``metric`` per model for users grouped by train-history length."""
    bucket = np.digitize(res.test_data.history_len, edges) - 1  # -1 = empty history
    labels = bucket_labels(edges)
    users = [int((bucket == b).sum()) for b in range(len(labels))]
    models = {}
    for r in res.results:
        values = r.per_user[metric]
        models[r.name] = [
            float(values[bucket == b].mean()) if users[b] else None for b in range(len(labels))
        ]
    return {"metric": metric, "labels": labels, "users": users, "models": models}


def best_baseline(res: SplitResults, metric: str, exclude_prefix: str = "hybrid") -> tuple:
    """(name, value) of the best non-hybrid model on ``metric``."""
    rows = [(r.name, r.mean(metric)) for r in res.results if not r.name.startswith(exclude_prefix)]
    return max(rows, key=lambda x: x[1]) if rows else (None, float("nan"))


def goal(text: str, value: float | None, target: float, detail: str, strict: bool = False) -> dict:
    """One goal's verdict; ``strict``: the value must exceed the target (a "beats" goal)."""
    # a zero value never "meets" a zero target (e.g. 10 x popularity = 0 on cold items)
    met = None if value is None else bool(value >= target and value > 0)
    if strict and value is not None:
        met = bool(value > target)
    ratio = None if value is None or target <= 0 else value / target
    return {
        "goal": text,
        "value": value,
        "target": target,
        "met": met,
        "ratio_to_target": ratio,
        "detail": detail,
    }


def example_users(res: SplitResults, model: str, n: int = 3, seed: int = 0, k: int = 10) -> list:
    """A few (seeded) users with their train history, test positives and the model's top-k."""
    r = res.by_name(model)
    if r is None or not len(res.test_data.user_ids):
        return []
    rng = np.random.default_rng(seed)
    rows = rng.choice(
        len(res.test_data.user_ids), min(n, len(res.test_data.user_ids)), replace=False
    )
    data = res.test_data
    out = []
    for row in sorted(rows):
        hist = data.histories[row].indices
        rel = set(data.relevant[row].indices.tolist())
        out.append(
            {
                "user_id": int(data.user_ids[row]),
                "history": data.item_vocab.ids[hist].tolist(),
                "relevant": data.item_vocab.ids[sorted(rel)].tolist(),
                "recs": data.item_vocab.ids[r.top[row, :k]].tolist(),
                "hits": [int(i) in rel for i in r.top[row, :k]],
            }
        )
    return out
