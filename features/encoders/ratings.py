"""Ratings features: fitted per-item and per-user statistics plus collaborative factors.

Not a per-input ``Encoder``: it is fitted on the interactions table, then gives one vector per
known id. Each vector is ``l2(concat(l2(factors), l2(stats)))`` so the two blocks weigh the same.

Stats block (``STATS_SCHEMA``), standardised over entities that have interactions:
``log1p(count)``, mean rating, rating variance, ``log1p(days since last interaction)``, then
two flags: ``has_ratings`` and ``cold``. Recency is measured from the newest timestamp in the
fitted interactions (not the wall clock), so refitting the same data gives the same vectors.

Cold entities (no interactions): zero factors, zero standardised stats, ``cold = 1``; their
vector is the unit ``cold`` axis, identical for all cold entities and orthogonal to any
factor direction, so downstream models can tell "unknown" from "disliked".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from features.encoders.base import l2_normalize
from recsys.core.interactions import IdVocab, positives, user_item_matrix

STATS_SCHEMA = ("log_count", "mean_rating", "rating_var", "log_recency_days", "has_ratings", "cold")
STATS_VERSION = "stats-v1"
Method = Literal["svd", "als"]


def entity_stats(interactions: pl.DataFrame, key: str, ids: np.ndarray, now) -> pl.DataFrame:
    """Raw per-entity stats aligned with ``ids``: count, mean_rating, rating_var, recency_days."""
    agg = interactions.group_by(key).agg(
        pl.len().alias("count"),
        pl.col("rating").drop_nulls().mean().alias("mean_rating"),
        pl.col("rating").drop_nulls().var(ddof=0).alias("rating_var"),
        (
            (
                pl.lit(now, dtype=pl.Datetime("us", "UTC")) - pl.col("timestamp").max()
            ).dt.total_seconds(fractional=True)
            / 86400.0
        ).alias("recency_days"),
    )
    frame = pl.DataFrame({key: ids}, schema={key: pl.Int64})
    return frame.join(agg, on=key, how="left", maintain_order="left").with_columns(
        pl.col("count").fill_null(0).cast(pl.Int64)
    )


def standardised_stats(raw: pl.DataFrame) -> np.ndarray:
    """Raw stats -> (n, len(STATS_SCHEMA)) float32; cold rows get zeros and ``cold = 1``."""
    warm = raw["count"].to_numpy() > 0
    has_ratings = raw["mean_rating"].is_not_null().to_numpy()
    cols = [
        np.log1p(raw["count"].to_numpy().astype(np.float64)),
        raw["mean_rating"].fill_null(np.nan).to_numpy().astype(np.float64),
        raw["rating_var"].fill_null(np.nan).to_numpy().astype(np.float64),
        np.log1p(raw["recency_days"].fill_null(np.nan).to_numpy().astype(np.float64)),
    ]
    out = np.zeros((raw.height, len(STATS_SCHEMA)), np.float32)
    for j, col in enumerate(cols):
        present = warm & ~np.isnan(col)
        if present.any():
            mu, sd = col[present].mean(), col[present].std()
            out[present, j] = (col[present] - mu) / (sd if sd > 1e-9 else 1.0)
    out[:, 4] = has_ratings
    out[:, 5] = ~warm
    return out


def svd_factors(matrix, factors: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Truncated SVD ``M ~ U S V^T``; returns (U sqrt(S), V sqrt(S)), deterministic signs."""
    from scipy.sparse.linalg import svds

    n_users, n_items = matrix.shape
    k = min(factors, min(n_users, n_items) - 1)
    user_f = np.zeros((n_users, factors), np.float32)
    item_f = np.zeros((n_items, factors), np.float32)
    if k < 1 or matrix.nnz == 0:
        return user_f, item_f
    v0 = np.random.default_rng(seed).uniform(-1, 1, min(matrix.shape))  # fixes ARPACK's start
    u, s, vt = svds(matrix.astype(np.float64), k=k, v0=v0, random_state=seed)
    order = np.argsort(-s)  # svds returns ascending singular values
    u, s, vt = u[:, order], s[order], vt[order]
    signs = np.sign(vt[np.arange(k), np.abs(vt).argmax(axis=1)])  # largest item loading > 0
    signs[signs == 0] = 1.0
    root = np.sqrt(s)
    user_f[:, :k] = u * signs * root
    item_f[:, :k] = vt.T * signs * root
    return user_f, item_f


def als_factors(matrix, factors: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Implicit ALS (``implicit``), single-threaded on CPU so a seed gives the same factors."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # implicit's advice: BLAS threads fight its own loops
        model = AlternatingLeastSquares(factors=factors, random_state=seed, num_threads=1)
        model.fit(matrix.tocsr(), show_progress=False)
    return np.asarray(model.user_factors, np.float32), np.asarray(model.item_factors, np.float32)


class RatingsFeatures:
    """Fitted ratings features; build with ``RatingsFeatures.fit(...)``."""

    name = "ratings"
    modality = "ratings"

    def __init__(self, item_ids, user_ids, item_raw, user_raw, item_factors, user_factors, config):
        self.item_ids = np.asarray(item_ids, np.int64)
        self.user_ids = np.asarray(user_ids, np.int64)
        self.item_raw: pl.DataFrame = item_raw
        self.user_raw: pl.DataFrame = user_raw
        self.item_factors = np.asarray(item_factors, np.float32)  # (n_items, factors)
        self.user_factors = np.asarray(user_factors, np.float32)  # (n_users, factors)
        self.config: dict = dict(config)

    @classmethod
    def fit(
        cls,
        interactions: pl.DataFrame,
        item_ids,
        user_ids,
        factors: int = 32,
        seed: int = 0,
        method: Method = "svd",
    ) -> RatingsFeatures:
        """Fit on ``interactions``; rows of the outputs follow ``item_ids`` / ``user_ids`` order.

        Factors come from the implicit-feedback matrix of ``recsys.core.interactions.positives``
        (ratings below the like threshold weigh 0). Interactions with ids outside the given
        lists are ignored.
        """
        item_ids = np.asarray(item_ids, np.int64)
        user_ids = np.asarray(user_ids, np.int64)
        known = interactions.filter(
            pl.col("item_id").is_in(item_ids.tolist()) & pl.col("user_id").is_in(user_ids.tolist())
        )
        now = known["timestamp"].max() if known.height else None
        item_raw = entity_stats(known, "item_id", item_ids, now)
        user_raw = entity_stats(known, "user_id", user_ids, now)
        # Factor rows follow the caller's order, so build the matrix on the given orders.
        u_vocab, i_vocab = IdVocab.from_ids(user_ids), IdVocab.from_ids(item_ids)
        matrix = user_item_matrix(positives(known), u_vocab, i_vocab)
        if method not in ("svd", "als"):
            raise ValueError(f"unknown method {method!r}; use 'svd' or 'als'")
        if matrix.nnz == 0:  # nothing to factorise: every entity is cold
            user_f = np.zeros((len(u_vocab), factors), np.float32)
            item_f = np.zeros((len(i_vocab), factors), np.float32)
        else:
            fn = svd_factors if method == "svd" else als_factors
            user_f, item_f = fn(matrix, factors, seed)
            # An entity without any positive has no collaborative signal, but the solvers give
            # its row tiny round-off values (~1e-8) that l2-normalising would blow up into a
            # unit-length random direction: make those rows exactly zero.
            weight = abs(matrix)  # sums, not nnz: a dislike may be stored as an explicit 0
            user_f[np.asarray(weight.sum(axis=1)).ravel() == 0] = 0.0
            item_f[np.asarray(weight.sum(axis=0)).ravel() == 0] = 0.0
        config = {"method": method, "factors": factors, "seed": seed, "stats": STATS_VERSION}
        return cls(
            item_ids,
            user_ids,
            item_raw,
            user_raw,
            item_f[i_vocab.index(item_ids)],
            user_f[u_vocab.index(user_ids)],
            config,
        )

    @property
    def version(self) -> str:
        c = self.config
        return f"ratings[{c['method']}-f{c['factors']}-s{c['seed']}]+{c['stats']}"

    @property
    def dim(self) -> int:
        return self.item_factors.shape[1] + len(STATS_SCHEMA)

    @staticmethod
    def _vectors(factors: np.ndarray, raw: pl.DataFrame) -> np.ndarray:
        factors = np.array(factors, np.float32)  # (n, factors), a copy: zeroed below
        factors[raw["count"].to_numpy() == 0] = 0.0  # cold: zero factors (also older saves)
        blocks = [l2_normalize(factors), l2_normalize(standardised_stats(raw))]
        return l2_normalize(np.concatenate(blocks, axis=1))  # (n, factors + stats)

    def item_vectors(self) -> np.ndarray:
        """(n_items, dim) float32 L2-normalised, rows in ``item_ids`` order."""
        return self._vectors(self.item_factors, self.item_raw)

    def user_vectors(self) -> np.ndarray:
        """(n_users, dim) float32 L2-normalised, rows in ``user_ids`` order."""
        return self._vectors(self.user_factors, self.user_raw)

    def save(self, directory: str | Path) -> None:
        """npz arrays + JSON config (no pickle)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.item_raw.write_parquet(d / "item_stats.parquet")
        self.user_raw.write_parquet(d / "user_stats.parquet")
        np.savez(
            d / "factors.npz",
            item_ids=self.item_ids,
            user_ids=self.user_ids,
            item_factors=self.item_factors,
            user_factors=self.user_factors,
        )
        (d / "ratings.json").write_text(json.dumps({**self.config, "version": self.version}))

    @classmethod
    def load(cls, directory: str | Path) -> RatingsFeatures:
        d = Path(directory)
        arrays = np.load(d / "factors.npz", allow_pickle=False)
        config = json.loads((d / "ratings.json").read_text())
        config.pop("version", None)
        return cls(
            arrays["item_ids"],
            arrays["user_ids"],
            pl.read_parquet(d / "item_stats.parquet"),
            pl.read_parquet(d / "user_stats.parquet"),
            arrays["item_factors"],
            arrays["user_factors"],
            config,
        )
