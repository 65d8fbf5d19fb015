"""Per-user ordered histories: THE rule for "what a user liked, oldest first" and "what they saw".

Training the ranking pipeline, evaluation and serving all read histories through this, so the
order a history is read in (and hence the recent-likes window) is the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from recsys.core.interactions import IdVocab, positive_weight


@dataclass(frozen=True)
class Histories:
    """Per user: liked items (oldest first) and every item seen, as dense item indices."""

    liked: dict[int, np.ndarray]
    seen: dict[int, np.ndarray]

    @classmethod
    def from_interactions(cls, interactions: pl.DataFrame, vocab: IdVocab) -> Histories:
        """Order is (timestamp, item_id): ties break the same way on every machine and run."""
        df = interactions.select(
            "user_id", "item_id", "timestamp", positive_weight().alias("w")
        ).sort(["timestamp", "item_id"], maintain_order=True)
        idx = vocab.index(df["item_id"].to_numpy())
        df = df.with_columns(pl.Series("idx", idx)).filter(pl.col("idx") >= 0)
        grouped = df.group_by("user_id", maintain_order=True).agg(
            pl.col("idx").filter(pl.col("w") > 0).unique(maintain_order=True).alias("liked"),
            pl.col("idx").unique().alias("seen"),
        )
        liked, seen = {}, {}
        for uid, lk, sn in grouped.iter_rows():
            liked[int(uid)] = np.asarray(lk, np.int64)
            seen[int(uid)] = np.sort(np.asarray(sn, np.int64))
        return cls(liked, seen)

    def merged(
        self, user_id: int | None, liked: np.ndarray, seen: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The stored history of ``user_id`` plus session items (dense indices), deduplicated.

        Session likes already in the stored history keep their place; new ones are appended
        in the given order (they are the most recent). Seen = stored seen ∪ liked ∪ ``seen``.
        """
        empty = np.zeros(0, np.int64)
        base = self.liked.get(user_id, empty) if user_id is not None else empty
        liked = np.asarray(liked, np.int64)
        new = liked[~np.isin(liked, base)]
        _, first = np.unique(new, return_index=True)
        history = np.concatenate([base, new[np.sort(first)]])
        stored_seen = self.seen.get(user_id, empty) if user_id is not None else empty
        all_seen = np.union1d(np.union1d(stored_seen, history), np.asarray(seen, np.int64))
        return history, all_seen
