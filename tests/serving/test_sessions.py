"""Live session history counts a like exactly when training would (one rule, two callers)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import polars as pl

from recsys.core.interactions import positives
from recsys.core.schemas import INTERACTIONS_SCHEMA
from serving.events import SessionStore

RATINGS = [None, 1.0, 2.0, 3.0, 3.5, 4.0, 5.0]
WATCH_FRACTIONS = [None, 0.0, 0.1, 0.29, 0.3, 0.5, 1.0]


def _trained_as_like(rating: float | None, watch_fraction: float | None) -> bool:
    row = {
        "user_id": 1,
        "item_id": 10,
        "timestamp": datetime(2025, 1, 1, tzinfo=UTC),
        "kind": "view" if rating is None else "rating",
        "rating": rating,
        "review_text": None,
        "watch_fraction": watch_fraction,
    }
    return positives(pl.DataFrame([row], schema=INTERACTIONS_SCHEMA)).height == 1


def test_session_likes_follow_the_training_rule():
    store = SessionStore()
    grid = list(itertools.product(RATINGS, WATCH_FRACTIONS))
    for user, (rating, watched) in enumerate(grid):
        store.add(user, 10, rating, watched)
    live = [bool(store.liked(user)) for user in range(len(grid))]
    trained = [_trained_as_like(r, w) for r, w in grid]
    assert live == trained
    assert all(store.seen(user) == [10] for user in range(len(grid)))
    # the grid covers both answers, including the abandoned unrated view
    assert not live[grid.index((None, 0.1))] and live[grid.index((None, None))]
    assert not live[grid.index((1.0, 1.0))] and live[grid.index((5.0, 0.0))]
