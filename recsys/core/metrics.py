"""Full-ranking metrics: per-user accuracy @K, beyond-accuracy list metrics, bootstrap CIs.

Accuracy metrics take ``top`` (U, K) item indices ranked over the WHOLE catalog (train items
already excluded) and ``relevant`` (U, n_items) CSR of each user's test positives. They return
one value per user so means, CIs and per-bucket breakdowns all come from the same arrays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import scipy.sparse as sp


def hits_matrix(top: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """(U, K) bool: is the item at rank r relevant for user u (-1 = an empty slot: never)."""
    if not top.size:
        return np.zeros(top.shape, bool)
    rows = np.arange(top.shape[0])[:, None]
    return np.asarray(relevant[rows, np.maximum(top, 0)].todense() > 0) & (top >= 0)


class Metric(ABC):
    """One per-user accuracy metric at a cut-off K."""

    name: ClassVar[str]

    @abstractmethod
    def per_user(self, hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
        """(U,) values from ``hits`` (U, >=K) bool and ``n_relevant`` (U,) test positives."""


METRICS: dict[str, Metric] = {}


def register(cls: type[Metric]) -> type[Metric]:
    METRICS[cls.name] = cls()
    return cls


@register
class Recall(Metric):
    name = "recall"

    def per_user(self, hits, n_relevant, k):
        return hits[:, :k].sum(1) / np.maximum(n_relevant, 1)


@register
class Precision(Metric):
    name = "precision"

    def per_user(self, hits, n_relevant, k):
        return hits[:, :k].sum(1) / k


@register
class NDCG(Metric):
    name = "ndcg"

    def per_user(self, hits, n_relevant, k):
        discounts = 1.0 / np.log2(np.arange(2, k + 2))  # (K,)
        dcg = (hits[:, :k] * discounts[: hits[:, :k].shape[1]]).sum(1)
        ideal_n = np.minimum(n_relevant, k).astype(int)
        ideal = np.concatenate([[0.0], np.cumsum(discounts)])[ideal_n]
        return np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)


@register
class MAP(Metric):
    name = "map"

    def per_user(self, hits, n_relevant, k):
        h = hits[:, :k].astype(np.float64)
        precision_at = np.cumsum(h, 1) / np.arange(1, h.shape[1] + 1)
        denom = np.minimum(n_relevant, k)
        return np.divide((precision_at * h).sum(1), denom, out=np.zeros(len(h)), where=denom > 0)


@register
class MRR(Metric):
    name = "mrr"

    def per_user(self, hits, n_relevant, k):
        h = hits[:, :k]
        first = h.argmax(1)
        return np.where(h.any(1), 1.0 / (first + 1), 0.0)


@register
class HitRate(Metric):
    name = "hitrate"

    def per_user(self, hits, n_relevant, k):
        return hits[:, :k].any(1).astype(np.float64)


def accuracy(
    top: np.ndarray, relevant: sp.csr_matrix, ks: tuple[int, ...] = (10, 20)
) -> dict[str, np.ndarray]:
    """Per-user arrays keyed ``"<metric>@<k>"`` for every registered metric and cut-off."""
    hits = hits_matrix(top, relevant)
    n_rel = np.diff(relevant.indptr)
    return {
        f"{name}@{k}": metric.per_user(hits, n_rel, k)
        for k in ks
        for name, metric in METRICS.items()
    }


def coverage(top: np.ndarray, n_items: int) -> float:
    """Share of the catalog that appears in at least one recommendation list."""
    return float(len(np.unique(top)) / n_items) if n_items else 0.0


def novelty(top: np.ndarray, item_counts: np.ndarray, n_users: int) -> float:
    """Mean self-information -log2 p(i) of recommended items, p = (count + 1) / (users + 1)."""
    p = (item_counts + 1.0) / (n_users + 1.0)
    return float(np.mean(-np.log2(p[top]))) if top.size else 0.0


def popularity_percentile(item_counts: np.ndarray) -> np.ndarray:
    """(n_items,) percentile in [0, 1] of each item's train count (1 = most popular)."""
    ranks = np.argsort(np.argsort(item_counts, kind="stable"), kind="stable")
    return ranks / max(len(item_counts) - 1, 1)


def popularity_bias(top: np.ndarray, item_counts: np.ndarray) -> float:
    """Mean popularity percentile of recommended items (0.5 = popularity-neutral)."""
    return float(popularity_percentile(item_counts)[top].mean()) if top.size else 0.0


def intra_list_diversity(top: np.ndarray, item_vectors: np.ndarray | None) -> float | None:
    """Mean pairwise cosine distance inside each list, averaged over users; None without vectors."""
    if item_vectors is None or top.shape[1] < 2:
        return None
    v = item_vectors / np.maximum(np.linalg.norm(item_vectors, axis=1, keepdims=True), 1e-12)
    lists = v[top]  # (U, K, D)
    sims = np.einsum("ukd,ujd->ukj", lists, lists)  # (U, K, K)
    k = top.shape[1]
    off_diag = (sims.sum((1, 2)) - np.einsum("ukk->u", sims)) / (k * (k - 1))
    return float(np.mean(1.0 - off_diag))


def bootstrap_ci(
    values: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean, resampling users with replacement (seeded)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0 or n_boot <= 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    chunk = max(1, 2_000_000 // len(values))  # bound memory: chunk * U indices at a time
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        idx = rng.integers(0, len(values), (stop - start, len(values)))
        means[start:stop] = values[idx].mean(1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)


def summarize(
    per_user: dict[str, np.ndarray], n_boot: int = 1000, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Mean and 95% CI per metric: ``{"ndcg@10": {"mean":…, "lo":…, "hi":…}}``."""
    out = {}
    for name, values in per_user.items():
        lo, hi = bootstrap_ci(values, n_boot, seed)
        out[name] = {
            "mean": float(np.mean(values)) if len(values) else float("nan"),
            "lo": lo,
            "hi": hi,
        }
    return out
