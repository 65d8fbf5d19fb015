"""Build the strings the text encoder sees: item text, per-item reviews, per-user history.

Pure functions, polars in / ``list[str]`` out, aligned with the ids asked for; an id with
nothing to say gets ``""`` (the embedding job decides whether to store or skip it).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


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
    reviews = (
        interactions.lazy()
        .filter(
            pl.col("review_text").is_not_null() & (pl.col("review_text").str.strip_chars() != "")
        )
        .sort(["item_id", "timestamp"], descending=[False, True], maintain_order=True)
        .group_by("item_id", maintain_order=True)
        .agg(pl.col("review_text").str.strip_chars().head(max_reviews))
        .collect()
    )
    by_item = dict(zip(reviews["item_id"].to_list(), reviews["review_text"].to_list(), strict=True))
    return [" | ".join(by_item.get(int(i), []))[:max_chars] for i in item_ids]


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
