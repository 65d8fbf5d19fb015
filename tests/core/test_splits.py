"""Every split is deterministic and leak-free."""

from __future__ import annotations

import polars as pl
import pytest

from recsys.core.splits import SPLITS, make_split


def _pairs(df: pl.DataFrame) -> set[tuple[int, int]]:
    return set(zip(df["user_id"].to_list(), df["item_id"].to_list(), strict=True))


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_no_pair_in_two_parts_and_deterministic(interactions, name):
    split = make_split(interactions, name)
    train, valid, test = _pairs(split.train), _pairs(split.valid), _pairs(split.test)
    assert not (test & train) and not (test & valid) and not (valid & train)
    assert split.test.height > 0
    again = make_split(interactions.sample(fraction=1.0, shuffle=True, seed=5), name)
    assert again.test.equals(split.test) and again.train.equals(split.train)
    assert split.description["name"] == name and "counts" in split.description


@pytest.mark.parametrize("name", ["per_user_temporal", "leave_last_out"])
def test_per_user_test_after_user_train(interactions, name):
    split = make_split(interactions, name)
    last_train = split.train.group_by("user_id").agg(pl.col("timestamp").max().alias("t"))
    first_test = split.test.group_by("user_id").agg(pl.col("timestamp").min().alias("s"))
    joined = first_test.join(last_train, on="user_id")
    assert joined.height == first_test.height  # every test user has train history
    assert (joined["s"] >= joined["t"]).all()


def test_per_user_fractions(make_frame):
    rows = [(0, i, i, None) for i in range(10)]
    split = make_split(make_frame(rows), "per_user_temporal", test_frac=0.2, valid_frac=0.1)
    assert split.test["item_id"].to_list() == [8, 9]
    assert split.valid["item_id"].to_list() == [7]


def test_global_temporal_after_cutoff(interactions):
    split = make_split(interactions, "global_temporal")
    assert split.train["timestamp"].max() < split.test["timestamp"].min()
    assert split.valid["timestamp"].max() < split.test["timestamp"].min()
    seen_before = set(split.train["user_id"]) | set(split.valid["user_id"])
    assert set(split.test["user_id"]) <= seen_before


def test_cold_item_items_absent_from_train(interactions):
    split = make_split(interactions, "cold_item")
    cold = set(split.test["item_id"])
    assert (
        cold and not cold & set(split.train["item_id"]) and not cold & set(split.valid["item_id"])
    )
    assert not set(split.valid["item_id"]) & set(split.train["item_id"])
    assert split.train["timestamp"].max() <= split.test["timestamp"].max()


def test_cold_user_users_absent_from_train(interactions):
    split = make_split(interactions, "cold_user")
    assert not set(split.test["user_id"]) & set(split.train["user_id"])


def test_bad_input_is_explained(interactions):
    with pytest.raises(ValueError, match="unknown split"):
        make_split(interactions, "random")
    with pytest.raises(ValueError, match="test_frac"):
        make_split(interactions, "global_temporal", test_frac=0.95, valid_frac=0.1)
    with pytest.raises(ValueError, match="empty"):
        make_split(interactions.head(0), "global_temporal")
