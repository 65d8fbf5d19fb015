"""conform/clean: structural errors name the column and value; row problems are counted."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
from recsys.core.validation import DataValidationError, ValidationReport, clean, conform

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def items_frame() -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "item_id": [1, 2, 2, 3],
                "title": ["A", "B", "B-dup", None],
                "description": ["a", "b", "c", "d"],
                "genres": [["Drama"], [], ["Comedy"], []],
                "tags": [[], [], [], []],
                "year": [1999, 2000, None, 2001],
                "poster_path": ["posters/1.jpg", None, None, None],
                "trailer_path": [None, None, None, None],
            }
        ),
        "items",
    )


def users_frame() -> pl.DataFrame:
    return conform(pl.DataFrame({"user_id": [10, 11, 11], "created_at": [T0, T0, T0]}), "users")


def interactions_frame() -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "user_id": [10, 10, 11, 12, 10, 10, None],
                "item_id": [1, 2, 99, 1, 2, 1, 1],
                "timestamp": [T0] * 7,
                "kind": ["view", "rating", "view", "rating", "like", "rating", "view"],
                "rating": [None, 4.0, None, 5.0, None, 7.0, None],
                "review_text": [None] * 7,
                "watch_fraction": [0.5, 1.0, None, None, None, None, None],
            },
            schema_overrides={"rating": pl.Float64, "watch_fraction": pl.Float64},
        ),
        "interactions",
    )


def test_conform_casts_to_canonical_schema():
    assert dict(items_frame().schema) == ITEMS_SCHEMA
    assert dict(users_frame().schema) == USERS_SCHEMA
    assert dict(interactions_frame().schema) == INTERACTIONS_SCHEMA


def test_missing_required_column_is_named():
    with pytest.raises(DataValidationError, match=r"items \(x\.csv\).*missing.*'title'"):
        conform(pl.DataFrame({"item_id": [1]}), "items", source="x.csv")


def test_wrong_type_names_column_and_bad_value():
    frame = pl.DataFrame({"user_id": ["1", "two"], "item_id": [1, 2], "timestamp": [T0, T0]})
    frame = frame.with_columns(pl.lit("view").alias("kind"))
    with pytest.raises(DataValidationError, match=r"column 'user_id'.*first bad value 'two'"):
        conform(frame, "interactions")


def test_missing_optional_columns_become_nulls():
    frame = conform(pl.DataFrame({"item_id": [1], "title": ["A"]}), "items")
    assert dict(frame.schema) == ITEMS_SCHEMA
    assert frame["poster_path"][0] is None and frame["genres"][0] is None


def test_clean_drops_and_counts_dangling_and_bad_rows():
    items, users, inter, report = clean(items_frame(), users_frame(), interactions_frame())
    assert items["item_id"].to_list() == [1, 2]
    assert items["title"].to_list() == ["A", "B"]  # first of a duplicated id wins
    assert report.dropped["items"] == {"null item_id/title": 1, "duplicate item_id": 1}
    assert report.dropped["users"] == {"duplicate user_id": 1}
    dropped = report.dropped["interactions"]
    assert dropped["dangling item_id"] == 1
    assert dropped["null required field"] == 1
    assert dropped["rating outside 0..5"] == 1
    assert sum(v for k, v in dropped.items() if k.startswith("unknown kind")) == 1
    assert inter.height == 3 and set(inter["item_id"]) <= {1, 2}
    # user 12 only appears in interactions: added to users, not dropped
    assert sorted(users["user_id"]) == [10, 11, 12]
    assert report.total_dropped == 7
    assert "dangling item_id" in report.summary()


def test_clean_report_accumulates():
    report = ValidationReport()
    report.add("items", "x", 0)
    assert report.summary() == "validation: no rows dropped"
    clean(items_frame(), users_frame(), interactions_frame(), report)
    assert report.total_dropped == 7
