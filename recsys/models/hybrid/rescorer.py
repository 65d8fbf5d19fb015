"""Re-scorer of the hybrid ranker: a small linear blend over both towers and two collaborative
signals, fitted on held-out positives.

Features of a (user, item) pair, each standardised per user over the catalogue so their scales
are comparable: the two-tower dot score, a sparse EASE score (item-item weights from the
training positives, top-``k`` per item so the checkpoint stays small), the cosine of the item's
content vector to the mean content of the user's history, log popularity, and a cold flag (no
training positive: the only way content-only items can be lifted against warm ones). The blend
weights are chosen by coordinate ascent on NDCG@10 of the held-out positives (the same ones the
transformer early-stops on; never the evaluation test set).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recsys.core.metrics import METRICS
from recsys.models.base import top_k
from recsys.models.ease import ease_weights

FEATURES = ("dot", "ease", "content", "log_pop", "cold")
# Coordinate-ascent candidates per feature; "dot" is the anchor (weight 1 unless EASE wins).
GRID = {
    "dot": (0.0, 0.25, 0.5, 1.0),
    "ease": (0.0, 0.25, 0.5, 1.0, 2.0, 4.0),
    "content": (0.0, 0.1, 0.25, 0.5, 1.0),
    "log_pop": (-0.5, -0.25, 0.0, 0.25, 0.5),
    "cold": (0.0, 0.5, 1.0, 2.0, 3.0, 4.0),
}
COLD_BOOSTS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)  # tried in order by boost_cold


def ease_topk(x: sp.csr_matrix, lam: float, topk: int) -> sp.csr_matrix:
    """EASE weights of binary ``x`` (U, N) as an (N, N) CSR keeping each column's ``topk``
    largest (the rest barely moves the ranking, and the checkpoint stays small)."""
    n = x.shape[1]
    active, b = ease_weights(x, lam)  # (m,), (m, m): column j predicts item active[j]
    if not len(active):
        return sp.csr_matrix((n, n), dtype=np.float32)
    k = min(topk, len(active))
    rows = np.argpartition(-b, k - 1, axis=0)[:k]  # (k, m)
    cols = np.broadcast_to(np.arange(len(active)), rows.shape)
    vals = b[rows, cols]
    out = sp.csr_matrix((vals.ravel(), (active[rows.ravel()], active[cols.ravel()])), shape=(n, n))
    out.eliminate_zeros()  # the diagonal
    return out


def _zscore(a: np.ndarray) -> np.ndarray:
    """Per-row standardisation of (B, N) scores."""
    mu = a.mean(1, keepdims=True)
    sd = a.std(1, keepdims=True)
    return (a - mu) / np.where(sd > 0, sd, 1.0)


@dataclass
class Rescorer:
    """Blend weights plus the collaborative statistics they read (all from training data)."""

    weights: np.ndarray  # (len(FEATURES),) float64
    ease: sp.csr_matrix  # (N, N) float32 sparse EASE weights
    log_pop: np.ndarray  # (N,) log1p(training positives)

    @classmethod
    def statistics(cls, x: sp.csr_matrix, lam: float, topk: int) -> Rescorer:
        """EASE weights and popularity of the binary positives matrix ``x`` (U, N)."""
        counts = np.asarray((sp.csr_matrix(x) > 0).sum(0)).ravel()
        w = np.zeros(len(FEATURES))
        w[0] = 1.0
        return cls(w, ease_topk(x, lam, topk), np.log1p(counts).astype(np.float32))

    def features(
        self, dot: np.ndarray, histories: sp.csr_matrix, content: np.ndarray
    ) -> np.ndarray:
        """(F, B, N) features; ``dot`` (B, N) tower scores, ``histories`` (B, N) binary
        positives, ``content`` (N, Dc) L2-normalised item content (zeros where missing)."""
        h = (sp.csr_matrix(histories) > 0).astype(np.float32)
        ease = np.asarray((h @ self.ease).todense(), np.float32)  # (B, N)
        n_hist = np.maximum(np.asarray(h.sum(1)), 1.0)  # (B, 1)
        profile = np.asarray(h @ content) / n_hist  # (B, Dc) mean history content
        cos = profile @ content.T  # (B, N)
        pop = np.broadcast_to((self.log_pop - self.log_pop.mean()) / (self.log_pop.std() or 1.0),
                              dot.shape)  # fmt: skip
        cold = np.broadcast_to((self.log_pop == 0).astype(np.float32), dot.shape)
        return np.stack([_zscore(dot), _zscore(ease), _zscore(cos), pop, cold]).astype(np.float32)

    def blend(self, feats: np.ndarray) -> np.ndarray:
        """(B, N) scores = weights · features."""
        return np.tensordot(self.weights.astype(np.float32), feats, axes=1)

    def fit_weights(
        self, feats: np.ndarray, held: sp.csr_matrix, seen: sp.csr_matrix, rounds: int = 2
    ) -> float:
        """Coordinate ascent on NDCG@10 of ``held`` (B, N) with ``seen`` excluded.

        Sets ``self.weights`` and returns the best NDCG@10 (ties keep the earlier weights).
        """
        mask = sp.csr_matrix(seen).toarray() > 0  # (B, N)
        target = sp.csr_matrix(held).toarray() > 0
        w = self.weights.astype(np.float64).copy()
        best = ndcg_at_k(_blend(w, feats), target, mask)
        for _ in range(rounds):
            for j, name in enumerate(FEATURES):
                for v in GRID[name]:
                    if v == w[j]:
                        continue
                    trial = w.copy()
                    trial[j] = v
                    if not trial.any():
                        continue
                    s = ndcg_at_k(_blend(trial, feats), target, mask)
                    if s > best + 1e-9:
                        best, w = s, trial
        self.weights = w
        return float(best)

    def boost_cold(
        self, feats: np.ndarray, held: sp.csr_matrix, seen: sp.csr_matrix, tolerance: float
    ) -> float:
        """Raise the cold weight as far as held-out NDCG@10 stays >= (1 - tolerance) x its
        current value: new items compete with warm ones that carry collaborative evidence, so a
        blend fitted on accuracy alone almost never shows them. Returns the NDCG@10 kept."""
        mask = sp.csr_matrix(seen).toarray() > 0
        target = sp.csr_matrix(held).toarray() > 0
        j = FEATURES.index("cold")
        base = ndcg_at_k(self.blend(feats), target, mask)
        kept = base
        for v in COLD_BOOSTS:
            if v <= self.weights[j]:
                continue
            trial = self.weights.copy()
            trial[j] = v
            s = ndcg_at_k(_blend(trial, feats), target, mask)
            if s < (1.0 - tolerance) * base:
                break
            self.weights, kept = trial, s
        return float(kept)

    def remap(self, item_map: np.ndarray, n_items: int) -> None:
        """Move item rows to new positions (``grow``); new items are cold (no EASE, pop 0)."""
        item_map = np.asarray(item_map, np.int64)
        coo = self.ease.tocoo()
        self.ease = sp.csr_matrix(
            (coo.data, (item_map[coo.row], item_map[coo.col])), shape=(n_items, n_items)
        )
        pop = np.zeros(n_items, np.float32)
        pop[item_map] = self.log_pop
        self.log_pop = pop

    def save(self, path: Path) -> None:
        e = self.ease.tocsr()
        np.savez(path, weights=self.weights, log_pop=self.log_pop, data=e.data,
                 indices=e.indices, indptr=e.indptr, shape=np.asarray(e.shape))  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> Rescorer:
        with np.load(path, allow_pickle=False) as z:
            ease = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            return cls(z["weights"], ease, z["log_pop"])


def _blend(w: np.ndarray, feats: np.ndarray) -> np.ndarray:
    return np.tensordot(w.astype(np.float32), feats, axes=1)


def ndcg_at_k(scores: np.ndarray, target: np.ndarray, seen: np.ndarray, k: int = 10) -> float:
    """Mean binary NDCG@k over rows with a target; ``seen`` entries are never ranked."""
    top = top_k(np.where(seen, -np.inf, scores), k)  # (B, k)
    hits = np.take_along_axis(target, top, 1)
    n_rel = target.sum(1)
    ok = n_rel > 0
    return float(METRICS["ndcg"].per_user(hits[ok], n_rel[ok], k).mean()) if ok.any() else 0.0


def content_unit(content: np.ndarray) -> np.ndarray:
    """Row-L2-normalised copy of (N, Dc) content (zero rows stay zero)."""
    norms = np.linalg.norm(content, axis=1, keepdims=True)
    return (content / np.where(norms > 0, norms, 1.0)).astype(np.float32)
