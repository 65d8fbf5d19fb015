"""Polars schemas of the canonical tables every later stage reads.

Ids are int64 everywhere: FAISS, LanceDB filters and sparse matrices all want integers, and both
the synthetic catalog and MovieLens use integer ids. Media paths are stored relative to the
dataset's media root (see ``recsys.core.catalog``) so a workspace can be moved
without rewriting rows.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

TIMESTAMP = pl.Datetime("us", "UTC")


class InteractionKind(StrEnum):
    VIEW = "view"
    RATING = "rating"
    REVIEW = "review"


ITEMS_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.Int64(),
    "title": pl.String(),
    "description": pl.String(),
    "genres": pl.List(pl.String()),
    "tags": pl.List(pl.String()),
    "year": pl.Int32(),
    "poster_path": pl.String(),
    "trailer_path": pl.String(),
}

USERS_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.Int64(),
    "created_at": TIMESTAMP,
}

INTERACTIONS_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.Int64(),
    "item_id": pl.Int64(),
    "timestamp": TIMESTAMP,
    "kind": pl.String(),
    "rating": pl.Float32(),
    "review_text": pl.String(),
    "watch_fraction": pl.Float32(),
}

# One user tag on one item, dated by when it was written (event time). Sources whose tags are
# catalog metadata with no date (the synthetic catalog) have none; ``items.tags`` then holds
# undated tags only. ``tag`` is normalised as in ``items.tags`` so the two can be matched.
TAG_EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.Int64(),
    "item_id": pl.Int64(),
    "tag": pl.String(),
    "timestamp": TIMESTAMP,
}

# Columns that must be present and non-null; the others may be missing (filled with nulls).
REQUIRED: dict[str, tuple[str, ...]] = {
    "items": ("item_id", "title"),
    "users": ("user_id",),
    "interactions": ("user_id", "item_id", "timestamp", "kind"),
    "tag_events": ("item_id", "tag", "timestamp"),
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "items": ITEMS_SCHEMA,
    "users": USERS_SCHEMA,
    "interactions": INTERACTIONS_SCHEMA,
    "tag_events": TAG_EVENTS_SCHEMA,
}

# A rating at or above this counts as a like; below it an interaction is not a positive.
LIKE_THRESHOLD = 3.5
# An unrated view stopped before this fraction of the runtime is not a positive either.
ABANDON_FRACTION = 0.3
