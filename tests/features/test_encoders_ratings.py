"""Ratings features on a tiny known matrix: exact stats, cold items, determinism, save/load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from features.encoders.ratings import STATS_SCHEMA, RatingsFeatures
from recsys.core.schemas import INTERACTIONS_SCHEMA

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ROWS = [  # user, item, day, kind, rating
    (10, 1, 0, "rating", 5.0),
    (10, 2, 1, "rating", 3.0),
    (11, 1, 2, "rating", 4.0),
    (11, 2, 3, "view", None),
    (12, 1, 4, "rating", 3.0),
    (12, 3, 5, "review", None),
]
ITEMS = [1, 2, 3, 4]  # item 4 has no interactions: cold
USERS = [10, 11, 12, 13]  # user 13 too


@pytest.fixture(scope="module")
def interactions() -> pl.DataFrame:
    u, i, d, k, r = zip(*ROWS, strict=True)
    return pl.DataFrame(
        {
            "user_id": u,
            "item_id": i,
            "timestamp": [T0 + timedelta(days=x) for x in d],
            "kind": k,
            "rating": r,
            "review_text": [None] * len(ROWS),
            "watch_fraction": [None] * len(ROWS),
        },
        schema=INTERACTIONS_SCHEMA,
    )


def test_item_stats_exact(interactions):
    feats = RatingsFeatures.fit(interactions, ITEMS, USERS, factors=4)
    raw = feats.item_raw
    assert raw["item_id"].to_list() == ITEMS
    assert raw["count"].to_list() == [3, 2, 1, 0]
    assert raw["mean_rating"].to_list()[:2] == pytest.approx([4.0, 3.0])
    assert raw["rating_var"].to_list()[:2] == pytest.approx([2 / 3, 0.0])
    assert raw["mean_rating"].to_list()[2:] == [None, None]
    assert raw["recency_days"].to_list()[:3] == pytest.approx([1.0, 2.0, 0.0])  # from day 5
    users = feats.user_raw
    assert users["count"].to_list() == [2, 2, 2, 0]
    assert users["mean_rating"].to_list()[:3] == pytest.approx([4.0, 4.0, 3.0])


def test_vectors_normalised_and_cold_items_flagged(interactions):
    feats = RatingsFeatures.fit(interactions, ITEMS, USERS, factors=4, seed=0)
    items, users = feats.item_vectors(), feats.user_vectors()
    assert items.shape == (4, 4 + len(STATS_SCHEMA)) == (4, feats.dim)
    assert users.shape == (4, feats.dim) and items.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(items, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(users, axis=1), 1.0, atol=1e-5)
    cold = np.zeros(feats.dim, np.float32)
    cold[-1] = 1.0  # the "cold" flag axis
    np.testing.assert_allclose(items[3], cold, atol=1e-6)
    np.testing.assert_allclose(users[3], cold, atol=1e-6)
    assert not np.any(feats.item_factors[3]) and np.any(feats.item_factors[0])
    # items 1 and 2 share two users' likes; item 3 is only liked by user 12 (who disliked 1)
    f = feats.item_factors
    assert f[0] @ f[1] > f[1] @ f[2]


def test_deterministic_and_order_follows_ids(interactions):
    a = RatingsFeatures.fit(interactions, ITEMS, USERS, factors=4, seed=0)
    b = RatingsFeatures.fit(interactions, ITEMS, USERS, factors=4, seed=0)
    np.testing.assert_array_equal(a.item_vectors(), b.item_vectors())
    rev = RatingsFeatures.fit(interactions, ITEMS[::-1], USERS[::-1], factors=4, seed=0)
    np.testing.assert_allclose(rev.item_vectors()[::-1], a.item_vectors(), atol=1e-5)
    assert a.version == "ratings[svd-f4-s0]+stats-v1"


def test_als_variant_and_save_load(interactions, tmp_path):
    feats = RatingsFeatures.fit(interactions, ITEMS, USERS, factors=4, seed=0, method="als")
    assert feats.version.startswith("ratings[als-f4")
    assert feats.item_vectors().shape == (4, feats.dim)
    feats.save(tmp_path / "ratings")
    loaded = RatingsFeatures.load(tmp_path / "ratings")
    assert loaded.version == feats.version
    np.testing.assert_array_equal(loaded.item_vectors(), feats.item_vectors())
    np.testing.assert_array_equal(loaded.user_ids, feats.user_ids)


def test_empty_interactions(interactions):
    feats = RatingsFeatures.fit(interactions.head(0), ITEMS, USERS, factors=4)
    assert feats.item_raw["count"].to_list() == [0, 0, 0, 0]
    assert np.all(feats.item_vectors()[:, -1] == 1.0)


def _with_roundoff(factors: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return tuple(f + np.float32(1e-15) for f in factors)


def _random_log(n_users: int, n_items: int, cold: set[int], disliked_only: int) -> pl.DataFrame:
    """Ratings from every user on random warm items; one item only ever rated 1 (no likes)."""
    rng = np.random.default_rng(0)
    rows = []
    warm = [i for i in range(n_items) if i not in cold and i != disliked_only]
    for u in range(n_users):
        for i in rng.choice(warm, 8, replace=False):
            rows.append((u, int(i), float(rng.integers(1, 6))))
        if u % 10 == 0:
            rows.append((u, disliked_only, 1.0))
    u, i, r = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "user_id": u,
            "item_id": i,
            "timestamp": [T0 + timedelta(hours=j) for j in range(len(rows))],
            "kind": ["rating"] * len(rows),
            "rating": r,
            "review_text": [None] * len(rows),
            "watch_fraction": [None] * len(rows),
        },
        schema=INTERACTIONS_SCHEMA,
    )


@pytest.mark.parametrize("method", ["svd", "als"])
def test_cold_and_unliked_items_get_exactly_zero_factors(method, monkeypatch):
    # On real catalogs (MovieLens, the demo) ARPACK leaves ~1e-15 round-off in rows without any
    # positive, which normalising blew up into a unit-length random "taste". This small matrix
    # happens to factorise exactly, so a wrapper adds that round-off to every row.
    import features.encoders.ratings as ratings

    for name in ("svd_factors", "als_factors"):
        real = getattr(ratings, name)
        monkeypatch.setattr(ratings, name, lambda m, f, s, real=real: _with_roundoff(real(m, f, s)))
    cold, disliked = {90, 91, 92}, 93
    log = _random_log(60, 100, cold, disliked)
    feats = RatingsFeatures.fit(log, list(range(100)), list(range(61)), factors=8, method=method)
    items, users = feats.item_vectors(), feats.user_vectors()
    axis = np.zeros(feats.dim, np.float32)
    axis[-1] = 1.0  # the "cold" flag
    for i in cold:
        np.testing.assert_array_equal(feats.item_factors[i], 0.0)
        np.testing.assert_array_equal(items[i], axis)  # zero factors, zero stats, cold = 1
    np.testing.assert_array_equal(users[60], axis)  # user 60 never interacted
    np.testing.assert_array_equal(feats.item_factors[disliked], 0.0)  # warm, but no like
    assert items[disliked, -1] == 0.0 and np.any(items[disliked, 8:-1])  # stats, not cold
    np.testing.assert_allclose(np.linalg.norm(items, axis=1), 1.0, atol=1e-5)
    liked = log.filter(pl.col("rating") >= 3.5)["item_id"].unique().to_list()
    assert np.all(np.linalg.norm(feats.item_factors[liked], axis=1) > 0)


def test_loaded_model_with_noisy_cold_factors_still_gives_zero_factors(interactions, tmp_path):
    feats = RatingsFeatures.fit(interactions, ITEMS, USERS, factors=4)
    feats.item_factors[3] = 1e-8  # what an older fit stored for the cold item 4
    np.testing.assert_array_equal(feats.item_vectors()[3, :4], 0.0)
    assert feats.item_vectors()[3, -1] == 1.0
