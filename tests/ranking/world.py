"""A genre world with known answers for the ranking pipeline.

Each user loves one genre and watched (rated 5) most of its titles, plus two stray titles of
other genres rated 1. Every genre also has fresh titles nobody watched. Item "text" vectors
are a test double for the encoders: the genre's direction plus noise, so content carries the
genre the way real plot embeddings carry a film's kind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from recsys.core.interactions import IdVocab
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA
from recsys.ranking import ContentSpace, PipelineConfig

# no tower: minutes of training (tests/app/test_train.py covers it); leaves of one hessian
# unit: a few hundred users give the ranker thousands of rows, not millions
CONFIG = PipelineConfig(tower=False, min_child_weight=1.0, n_estimators=150)

GENRES = ("Sci-Fi", "Romance", "Horror", "Comedy")
PER_GENRE = 15  # watched titles per genre
FRESH = 3  # titles per genre with no interaction at all
N_USERS = 160


def item_id(genre: int, j: int) -> int:
    return 1000 + genre * 100 + j


def genre_of(item: int) -> int:
    return (item - 1000) // 100


def fresh_ids(genre: int) -> list[int]:
    return [item_id(genre, PER_GENRE + j) for j in range(FRESH)]


def items() -> pl.DataFrame:
    rows = [
        {"item_id": item_id(g, j), "title": f"{name} title {j}", "description": None,
         "genres": [name], "tags": [], "year": 1980 + j, "poster_path": None,
         "trailer_path": None}
        for g, name in enumerate(GENRES)
        for j in range(PER_GENRE + FRESH)
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=ITEMS_SCHEMA)


def interactions(seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for u in range(1, N_USERS + 1):
        g = u % len(GENRES)
        liked = rng.choice(PER_GENRE, size=10, replace=False)
        times = rng.uniform(0, 300, size=12)  # the stray dislikes fall anywhere in time
        for t, j in zip(times[:10], liked, strict=True):
            rows.append((u, item_id(g, int(j)), start + timedelta(days=float(t)), "rating", 5.0))
        for t in times[10:]:
            other = (g + 1 + int(rng.integers(3))) % len(GENRES)
            j = int(rng.integers(PER_GENRE))
            rows.append((u, item_id(other, j), start + timedelta(days=float(t)), "rating", 1.0))
    frame = pl.DataFrame(
        rows, schema=["user_id", "item_id", "timestamp", "kind", "rating"], orient="row"
    )
    return (
        frame.with_columns(
            pl.lit(None, dtype=pl.String).alias("review_text"),
            pl.lit(1.0).alias("watch_fraction"),
        )
        .select(list(INTERACTIONS_SCHEMA))
        .cast(INTERACTIONS_SCHEMA)
    )  # type: ignore[arg-type]


def text_content(seed: int = 0) -> dict[str, ContentSpace]:
    frame = items()
    vocab = IdVocab.from_ids(frame["item_id"])
    rng = np.random.default_rng(seed)
    dim = 16
    directions = np.eye(dim)[: len(GENRES)]
    vectors = np.stack([directions[genre_of(int(i))] for i in vocab.ids])
    vectors = vectors + 0.35 * rng.normal(size=vectors.shape)
    return {"text": ContentSpace.from_vectors(vectors, np.ones(len(vocab), bool))}


def genre_direction(genre: int, dim: int = 16) -> np.ndarray:
    return np.eye(dim)[genre].astype(np.float32)
