"""Live session history counts a like exactly when training would (one rule, two callers)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import polars as pl

from recsys.core.interactions import positives
from recsys.core.schemas import INTERACTIONS_SCHEMA
from serving.sessions import SessionStore

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


def test_sessions_are_bounded_in_users_and_items():
    store = SessionStore(max_users=3, max_items=2)
    for user in (1, 2, 3):
        store.add(user, 10, None, None)
    store.add(1, 11, None, None)  # user 1 is active again: user 2 is now the least recent
    store.add(4, 10, None, None)
    assert len(store) == 3 and store.seen(2) == [] and store.liked(2) == []
    assert store.seen(1) == [10, 11] and store.seen(3) == [10] and store.seen(4) == [10]
    store.add(1, 12, 5.0, None)
    store.add(1, 10, 5.0, None)  # seen again: moves to the newest end, nothing doubles
    assert store.seen(1) == [12, 10] and store.liked(1) == [12, 10]
    store.add(1, 13, 1.0, None)  # a dislike: seen, not liked
    assert store.seen(1) == [10, 13] and store.liked(1) == [12, 10]
