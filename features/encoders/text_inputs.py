"""Build the strings the text encoder sees: item text, per-item reviews, per-user history.

Pure functions, polars in / ``list[str]`` out, aligned with the ids asked for; an id with
nothing to say gets ``""`` (the embedding job decides whether to store or skip it).

User tags and reviews are dated events, so their texts also come as ``DatedText``: the text
and when its newest dated input was written (``valid_from``), which lets a point-in-time read
leave out what did not exist yet. Catalog metadata (title, genres, undated tags) has no date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl


@dataclass(frozen=True)
class DatedText:
    """A text for one id and the event time of its newest dated input (None: undated only)."""

    id: int
    text: str
    valid_from: datetime | None = None


def _join(values: list[str] | None) -> str:
    return ", ".join(v for v in (values or []) if v)


def item_text(
    title: str | None,
    description: str | None = None,
    genres: list[str] | None = None,
    tags: list[str] | None = None,
    year: int | None = None,
) -> str:
    """One item's text: ``"Title (year). Genres: a, b. Tags: x, y. Description"``."""
    parts = [f"{title or ''}{f' ({year})' if year else ''}".strip()]
    if genres:
        parts.append(f"Genres: {_join(genres)}")
    if tags:
        parts.append(f"Tags: {_join(tags)}")
    if description:
        parts.append(description.strip())
    return ". ".join(p for p in parts if p)


def item_texts(items: pl.DataFrame) -> list[str]:
    """Item text for every row of ``items`` (title, year, genres, tags, description), in order."""
    cols = {
        c: items.get_column(c).to_list() if c in items.columns else [None] * items.height
        for c in ("title", "description", "genres", "tags", "year")
    }
    return [
        item_text(t, d, g, tg, y)
        for t, d, g, tg, y in zip(
            cols["title"],
            cols["description"],
            cols["genres"],
            cols["tags"],
            cols["year"],
            strict=True,
        )
    ]


def dated_item_texts(items: pl.DataFrame, tag_events: pl.DataFrame | None) -> list[DatedText]:
    """Item texts, in ``items`` order, with the event time of the user tags in them.

    An item whose text holds tags from ``tag_events`` (user_id, item_id, tag, timestamp) gets
    two: its base text without those tags (valid_from None, valid at any time) and its full
    text (valid_from = its newest tag event: the cap and order of ``items.tags`` depend on all
    of them). Any other item gets its one text, undated, as ``item_texts`` builds it.
    """
    full = item_texts(items)
    ids = [int(i) for i in items.get_column("item_id").to_list()]
    if tag_events is None or tag_events.is_empty():
        return [DatedText(i, t) for i, t in zip(ids, full, strict=True)]
    dated = (
        tag_events.group_by("item_id")
        .agg(pl.col("tag").str.strip_chars().str.to_lowercase().unique(), pl.col("timestamp").max())
        .rows_by_key("item_id", unique=True)
    )
    base = item_texts(items.with_columns(_without_dated_tags(ids, items, dated).alias("tags")))
    out = []
    for i, b, f in zip(ids, base, full, strict=True):
        if b == f:  # no dated tag made it into the text: it depends on nothing dated
            out.append(DatedText(i, f))
        else:
            out += [DatedText(i, b), DatedText(i, f, dated[i][1])]
    return out


def _without_dated_tags(ids: list[int], items: pl.DataFrame, dated: dict) -> pl.Series:
    """``items.tags`` minus each item's dated tags (compared normalised, as the loader stores)."""
    tags = items.get_column("tags").to_list() if "tags" in items.columns else [None] * len(ids)
    kept = []
    for i, row in zip(ids, tags, strict=True):
        drop = set(dated[i][0]) if i in dated else set()
        kept.append([t for t in row or [] if t.strip().lower() not in drop])
    return pl.Series("tags", kept, dtype=pl.List(pl.String))


def review_texts(
    interactions: pl.DataFrame,
    item_ids: Sequence[int],
    max_reviews: int = 20,
    max_chars: int = 2000,
) -> list[str]:
    """Per item: its ``max_reviews`` most recent non-empty reviews, newest first, ``max_chars`` cap.

    The cap keeps one item's text bounded (the encoder truncates tokens anyway; capping here
    keeps the job's memory and the stored text bounded too).
    """
    return [r.text for r in dated_review_texts(interactions, item_ids, max_reviews, max_chars)]


def dated_review_texts(
    interactions: pl.DataFrame,
    item_ids: Sequence[int],
    max_reviews: int = 20,
    max_chars: int = 2000,
) -> list[DatedText]:
    """``review_texts`` with valid_from = the newest review in the text (None: no review)."""
    reviews = (
        interactions.lazy()
        .filter(
            pl.col("review_text").is_not_null() & (pl.col("review_text").str.strip_chars() != "")
        )
        .sort(["item_id", "timestamp"], descending=[False, True], maintain_order=True)
        .group_by("item_id", maintain_order=True)
        .agg(pl.col("review_text").str.strip_chars().head(max_reviews), pl.col("timestamp").first())
        .collect()
    )
    by_item = reviews.rows_by_key("item_id", unique=True)
    out = []
    for i in item_ids:
        texts, newest = by_item.get(int(i), ([], None))
        out.append(DatedText(int(i), " | ".join(texts)[:max_chars], newest))
    return out


def user_history_texts(
    interactions: pl.DataFrame,
    items: pl.DataFrame,
    user_ids: Sequence[int],
    n_recent: int = 20,
) -> list[str]:
    """Per user: titles of the ``n_recent`` most recently watched distinct items, newest first.

    Every interaction kind counts as a watch (a rating or review implies the user saw it).
    """
    titles = items.select("item_id", "title")
    recent = (
        interactions.lazy()
        .select("user_id", "item_id", "timestamp")
        .join(titles.lazy(), on="item_id", how="inner")
        .filter(pl.col("title").is_not_null())
        # Sort after the join: joins do not promise to keep row order.
        .sort(["user_id", "timestamp", "item_id"], descending=[False, True, False])
        .unique(subset=["user_id", "item_id"], keep="first", maintain_order=True)
        .group_by("user_id", maintain_order=True)
        .agg(pl.col("title").head(n_recent))
        .collect()
    )
    by_user = dict(zip(recent["user_id"].to_list(), recent["title"].to_list(), strict=True))
    return ["; ".join(by_user.get(int(u), [])) for u in user_ids]
