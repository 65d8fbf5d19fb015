"""Id vocabularies and the user x item matrix that collaborative models and metrics share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.schemas import ABANDON_FRACTION, LIKE_THRESHOLD


@dataclass(frozen=True)
class IdVocab:
    """Maps external int64 ids to dense row/column indices 0..n-1 (ids kept sorted)."""

    ids: np.ndarray  # (n,) int64, sorted

    @classmethod
    def from_ids(cls, ids) -> IdVocab:
        return cls(np.unique(np.asarray(ids, dtype=np.int64)))

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, ids) -> np.ndarray:
        """Dense indices of ``ids``; -1 for ids not in the vocabulary."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.ids, ids)
        pos = np.clip(pos, 0, max(len(self.ids) - 1, 0))
        found = len(self.ids) > 0
        hit = (self.ids[pos] == ids) if found else np.zeros(ids.shape, bool)
        return np.where(hit, pos, -1)


def like_weights(rating: np.ndarray, watch_fraction: np.ndarray) -> np.ndarray:
    """Implicit-feedback weight of each interaction; > 0 means "a like". THE positive rule.

    Training, evaluation and live events all call this, so an event can never count as a like
    online and not offline. Views and reviews without a rating count 1. A rating scales the
    weight, and ratings below ``LIKE_THRESHOLD`` get weight 0: a 1-star rating says the user
    did not like the item, so it must not be learned as a like. Likewise an unrated view
    abandoned early (watch_fraction below ``ABANDON_FRACTION``) is a sign of dislike.

    Args:
        rating: (n,) float, NaN where unrated.
        watch_fraction: (n,) float, NaN where unknown (counts as watched).
    """
    rating = np.asarray(rating, np.float64)
    watched = np.asarray(watch_fraction, np.float64)
    unrated = np.isnan(rating)
    abandoned = unrated & (watched < ABANDON_FRACTION)  # NaN < x is False: unknown = watched
    rated_like = ~unrated & (rating >= LIKE_THRESHOLD)
    weight = np.where(rated_like, np.nan_to_num(rating) / 5.0 + 0.5, 0.0)
    weight = np.where(unrated & ~abandoned, 1.0, weight)
    return weight.astype(np.float32)


def is_like(rating: float | None, watch_fraction: float | None) -> bool:
    """One event through ``like_weights`` (what the API applies to each posted event)."""
    nan = float("nan")
    one = like_weights(
        np.asarray([nan if rating is None else rating]),
        np.asarray([nan if watch_fraction is None else watch_fraction]),
    )
    return bool(one[0] > 0)


def positive_weight() -> pl.Expr:
    """``like_weights`` as a polars expression over the ``rating``/``watch_fraction`` columns."""
    return pl.map_batches(
        ["rating", "watch_fraction"],
        lambda cols: pl.Series(
            like_weights(
                cols[0].cast(pl.Float64).fill_null(float("nan")).to_numpy(),
                cols[1].cast(pl.Float64).fill_null(float("nan")).to_numpy(),
            )
        ),
        return_dtype=pl.Float32,
    )


def positives(interactions: pl.DataFrame) -> pl.DataFrame:
    """(user_id, item_id, weight, timestamp) of positive interactions, last timestamp per pair."""
    return (
        interactions.with_columns(positive_weight().alias("weight"))
        .filter(pl.col("weight") > 0)
        .group_by("user_id", "item_id")
        .agg(pl.col("weight").max(), pl.col("timestamp").max())
    )


def seen_pairs(interactions: pl.DataFrame) -> pl.DataFrame:
    """Every (user_id, item_id) the user interacted with, liked or not (to exclude when ranking)."""
    return interactions.select("user_id", "item_id").unique()


def user_item_matrix(
    pairs: pl.DataFrame, users: IdVocab, items: IdVocab, weight: str | None = "weight"
) -> sp.csr_matrix:
    """CSR (n_users, n_items) from rows with user_id/item_id (+ weight); unknown ids skipped."""
    u = users.index(pairs["user_id"].to_numpy())
    i = items.index(pairs["item_id"].to_numpy())
    keep = (u >= 0) & (i >= 0)
    values = (
        pairs[weight].to_numpy().astype(np.float32)
        if weight and weight in pairs.columns
        else np.ones(len(pairs), np.float32)
    )
    matrix = sp.csr_matrix(
        (values[keep], (u[keep], i[keep])), shape=(len(users), len(items)), dtype=np.float32
    )
    matrix.sum_duplicates()
    return matrix


def positive_matrix(interactions: pl.DataFrame, items: IdVocab) -> tuple[IdVocab, sp.csr_matrix]:
    """Binary user x item matrix of positives and the vocabulary of the users that have any.

    The starting point of every collaborative model fitted on raw interactions.
    """
    pos = positives(interactions)
    users = IdVocab.from_ids(pos["user_id"])
    return users, user_item_matrix(pos, users, items, weight=None)


def signal_matrix(
    interactions: pl.DataFrame, items: IdVocab, signal: str = "liked"
) -> tuple[IdVocab, sp.csr_matrix]:
    """Binary user x item matrix a collaborative model learns from, and its user vocabulary.

    ``"liked"``: ``positive_matrix`` (dislikes and abandoned views dropped). ``"all"``: every
    interaction counts 1, dislikes included: a 1-star rating still says "this was worth a look",
    which can help co-occurrence models on sparse data; tuning decides which signal wins.
    """
    if signal == "liked":
        return positive_matrix(interactions, items)
    if signal == "all":
        pairs = seen_pairs(interactions)
        users = IdVocab.from_ids(pairs["user_id"])
        return users, user_item_matrix(pairs, users, items, weight=None)
    raise ValueError(f"unknown signal {signal!r}; choose 'liked' or 'all'")
