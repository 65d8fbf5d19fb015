"""MovieLens adapter on a hand-written ml-latest-small fixture (and on the real data if present)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, TAG_EVENTS_SCHEMA, USERS_SCHEMA
from recsys.core.validation import DataValidationError, clean, conform
from recsys.datasets.movielens import read_movielens

ML_SMALL = Path("/work/shared/data/ml-latest-small")

MOVIES = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
11,"American President, The (1995)",Comedy|Drama|Romance
38,"Cry, the Beloved Country (1995)",Drama
143410,Hyena Road,(no genres listed)
170,Stranger Things (2016–),Drama|Sci-Fi
"""
RATINGS = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,11,2.5,964981247
2,1,5.0,1445714994
2,143410,0.5,1445715000
"""
TAGS = """userId,movieId,tag,timestamp
2,1,Pixar,1445714994
1,1,pixar,1445714995
1,1,fun,1445714996
2,11,politics,1445714997
"""
LINKS = """movieId,imdbId,tmdbId
1,0114709,862
11,0112346,9087
38,0112749,
"""


def write_fixture(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "movies.csv").write_text(MOVIES)
    (root / "ratings.csv").write_text(RATINGS)
    (root / "tags.csv").write_text(TAGS)
    (root / "links.csv").write_text(LINKS)
    from PIL import Image

    (root / "posters").mkdir()
    Image.new("RGB", (20, 30), (200, 10, 10)).save(root / "posters" / "1.jpg")
    return root


@pytest.fixture()
def ml(tmp_path) -> Path:
    return write_fixture(tmp_path / "ml")


def test_items_titles_years_genres_tags_posters(ml):
    raw = read_movielens(ml)
    items = {r["item_id"]: r for r in raw.items.to_dicts()}
    assert items[1]["title"] == "Toy Story" and items[1]["year"] == 1995
    assert items[1]["genres"] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    assert items[1]["tags"] == ["pixar", "fun"]  # lowercased, deduplicated, most frequent first
    # genres and tags are their own columns; an undated description copy would leak the tags
    assert items[1]["description"] is None
    assert items[1]["poster_path"] == "posters/1.jpg"
    assert items[11]["title"] == "The American President" and items[11]["year"] == 1995
    assert items[38]["title"] == "Cry, the Beloved Country"  # comma inside quotes kept
    assert items[38]["poster_path"] is None  # no file, no path
    assert items[143410]["title"] == "Hyena Road" and items[143410]["year"] is None
    assert items[143410]["genres"] == [] and items[143410]["description"] is None
    assert items[170]["title"] == "Stranger Things" and items[170]["year"] == 2016
    assert raw.media_root == ml.resolve()


def test_ratings_become_canonical_interactions(ml):
    raw = read_movielens(ml)
    items = conform(raw.items, "items")
    users = conform(raw.users, "users")
    inter = conform(raw.interactions, "interactions")
    items, users, inter, report = clean(items, users, inter)
    assert report.total_dropped == 0
    assert dict(items.schema) == ITEMS_SCHEMA and dict(users.schema) == USERS_SCHEMA
    assert dict(inter.schema) == INTERACTIONS_SCHEMA
    assert inter.height == 4 and set(inter["kind"]) == {"rating"}
    first = inter.row(0, named=True)
    assert first["timestamp"] == datetime.fromtimestamp(964982703, tz=UTC)
    assert first["rating"] == 4.0
    assert sorted(users["user_id"]) == [1, 2]
    assert users.filter(pl.col("user_id") == 2)["created_at"][0] == datetime.fromtimestamp(
        1445714994, tz=UTC
    )


def test_tag_events_keep_who_tagged_what_when(ml):
    raw = read_movielens(ml)
    events = conform(raw.tag_events, "tag_events")
    assert dict(events.schema) == TAG_EVENTS_SCHEMA
    at = [
        datetime.fromtimestamp(t, tz=UTC) for t in (1445714994, 1445714995, 1445714996, 1445714997)
    ]
    assert events.rows() == [
        (2, 1, "pixar", at[0]),  # normalised as in items.tags ("Pixar" -> "pixar")
        (1, 1, "pixar", at[1]),
        (1, 1, "fun", at[2]),
        (2, 11, "politics", at[3]),
    ]


def test_undated_and_blank_tags(ml):
    (ml / "tags.csv").write_text(TAGS + "3,38,  ,1445714998\n")
    assert read_movielens(ml).tag_events.height == 4  # a blank tag is no event
    (ml / "tags.csv").write_text("userId,movieId,tag,timestamp\n3,38,Classic,\n")
    raw = read_movielens(ml)
    assert raw.tag_events.is_empty()  # no date: catalog metadata, not an event
    assert raw.items.filter(pl.col("item_id") == 38)["tags"].to_list() == [["classic"]]


def test_tags_and_links_are_optional(ml):
    (ml / "tags.csv").unlink()
    (ml / "links.csv").unlink()
    raw = read_movielens(ml)
    assert raw.items.filter(pl.col("item_id") == 1)["tags"].to_list() == [[]]
    assert raw.tag_events.is_empty()


def test_malformed_rating_names_file_and_line(ml):
    (ml / "ratings.csv").write_text(RATINGS + "3,1,four,1445715000\n")
    with pytest.raises(DataValidationError, match=r"ratings\.csv: line 6: column 'rating'"):
        read_movielens(ml)


@pytest.mark.needs_data
@pytest.mark.skipif(not ML_SMALL.is_dir(), reason=f"MovieLens latest-small not at {ML_SMALL}")
def test_real_ml_latest_small():
    raw = read_movielens(ML_SMALL)
    assert raw.interactions.height == 100_836
    assert raw.items.height == 9_742
    assert raw.users.height == 610
    assert raw.items["title"].null_count() == 0
    assert raw.items["poster_path"].null_count() < raw.items.height  # posters were found
    # every row of tags.csv is dated and non-blank: all kept, on 1,572 tagged items
    assert raw.tag_events.height == 3_683 and raw.tag_events["item_id"].n_unique() == 1_572
    assert raw.tag_events["timestamp"].null_count() == 0
