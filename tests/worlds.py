"""Tiny interaction frames with known structure for the eval tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from recsys.core.schemas import INTERACTIONS_SCHEMA

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_interactions(rows: list[tuple[int, int, int, float | None]]) -> pl.DataFrame:
    """Rows of (user_id, item_id, day offset, rating or None) → canonical interactions frame."""
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "timestamp": [T0 + timedelta(days=r[2]) for r in rows],
            "kind": ["rating" if r[3] is not None else "view" for r in rows],
            "rating": [r[3] for r in rows],
            "review_text": [None] * len(rows),
            "watch_fraction": [None] * len(rows),
        },
        schema=INTERACTIONS_SCHEMA,
    )


def random_interactions(n_users=40, n_items=30, per_user=12, seed=0) -> pl.DataFrame:
    """Random views with ratings, random times, some duplicate pairs and timestamp ties."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        n = int(rng.integers(1, per_user + 1))
        for _ in range(n):
            rating = None if rng.random() < 0.5 else float(rng.integers(1, 6))
            rows.append((u, int(rng.integers(0, n_items)), int(rng.integers(0, 50)), rating))
    return make_interactions(rows)


def block_interactions(n_blocks=3, users_per_block=8, items_per_block=5) -> pl.DataFrame:
    """Block-diagonal data: each user watched every item of their block, in item order.

    The last item of each user's block comes last in time, so a per-user leave-last-out split
    holds out exactly one item that all the user's block-mates watched.
    """
    rows = []
    for b in range(n_blocks):
        for j in range(users_per_block):
            user = b * users_per_block + j
            # rotate which item is last so every item is seen in train by block-mates
            items = [
                b * items_per_block + (i + j) % items_per_block for i in range(items_per_block)
            ]
            rows += [(user, item, day, None) for day, item in enumerate(items)]
    return make_interactions(rows)


@pytest.fixture(scope="session")  # polars frames are immutable: safe to share
def interactions() -> pl.DataFrame:
    return random_interactions()


@pytest.fixture(scope="session")
def blocks() -> pl.DataFrame:
    return block_interactions()


@pytest.fixture
def make_frame():
    return make_interactions


def clustered_unit_vectors(n: int, dim: int, clusters: int = 8, seed: int = 0) -> np.ndarray:
    """Gaussian blobs around random centres, L2-normalised (what callers index)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.3 * rng.normal(size=(n, dim))  # (n, dim)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


@pytest.fixture(scope="session")
def unit_vectors():
    """The clustered unit-vector generator, for tests that need their own sizes."""
    return clustered_unit_vectors


def views_frame(rows: list[tuple[int, int, datetime]]) -> pl.DataFrame:
    """Fully watched, unrated views from (user_id, item_id, timestamp) rows."""
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "timestamp": [r[2] for r in rows],
            "kind": ["view"] * len(rows),
            "rating": [None] * len(rows),
            "review_text": [None] * len(rows),
            "watch_fraction": [1.0] * len(rows),
        },
        schema=INTERACTIONS_SCHEMA,
    )
