"""MovieLens adapter: the ml-latest-small CSV layout -> canonical tables.

Files: ratings.csv (userId,movieId,rating,timestamp), movies.csv (movieId,title,genres with
'|'), optional tags.csv (userId,movieId,tag,timestamp), links.csv (movieId,imdbId,tmdbId) and
posters/<movieId>.jpg. MovieLens has no plot summaries, so the text signal is the genres and the
community tags. Tags are user events: besides the aggregated ``items.tags`` the loader keeps every
dated tag (``tag_events``) so item text can be rebuilt as it stood at a cut-off; ``description``
stays empty (a copy of the tags there would be undated).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from recsys.core.catalog import no_tag_events
from recsys.core.schemas import TIMESTAMP
from recsys.datasets.csvio import read_csv_checked
from recsys.datasets.raw import RawDataset

RATINGS = "ratings.csv"
MOVIES = "movies.csv"
TAGS = "tags.csv"
LINKS = "links.csv"
POSTERS = "posters"
MAX_TAGS = 10  # per item, most frequent first
NO_GENRES = "(no genres listed)"

# "Toy Story (1995)", "Babylon 5" (no year), "Stranger Things (2016–)" (series range).
_YEAR = r"\s*\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$"
# "American President, The" -> "The American President" (MovieLens moves articles last).
_ARTICLE = r"^(.+), (The|A|An)$"


@dataclass
class MovieLensRaw(RawDataset):
    """A MovieLens read: the common raw tables plus the dated tag events (canonical names)."""

    tag_events: pl.DataFrame = field(default_factory=no_tag_events)


def is_movielens(src: Path) -> bool:
    return (src / RATINGS).is_file() or (src / MOVIES).is_file()


def read_movielens(src: Path) -> MovieLensRaw:
    """Read a MovieLens folder into canonical-named frames (conformed later by preprocess)."""
    src = Path(src)
    for name in (RATINGS, MOVIES):
        if not (src / name).is_file():
            raise FileNotFoundError(f"MovieLens dataset in {src} is missing required file {name}")
    ratings = read_csv_checked(
        src / RATINGS,
        {"userId": pl.Int64, "movieId": pl.Int64, "rating": pl.Float64, "timestamp": pl.Int64},
    )
    movies = read_csv_checked(
        src / MOVIES,
        {"movieId": pl.Int64, "title": pl.String, "genres": pl.String},
        required=("movieId", "title"),
    )
    tags = (
        read_csv_checked(
            src / TAGS,
            {"userId": pl.Int64, "movieId": pl.Int64, "tag": pl.String, "timestamp": pl.Int64},
            required=("movieId",),
        )
        if (src / TAGS).is_file()
        else None
    )
    if (src / LINKS).is_file():
        # Validated for well-formedness; imdb/tmdb ids are not used by the pipeline yet.
        read_csv_checked(
            src / LINKS,
            {"movieId": pl.Int64, "imdbId": pl.String, "tmdbId": pl.Int64},
            required=("movieId",),
        )
    tagged = tag_rows(tags)
    items = movie_items(movies, tagged, _poster_ids(src / POSTERS))
    interactions = ratings.select(
        pl.col("userId").alias("user_id"),
        pl.col("movieId").alias("item_id"),
        _epoch_seconds("timestamp").alias("timestamp"),
        pl.lit("rating").alias("kind"),
        pl.col("rating").cast(pl.Float32),
        pl.lit(None, dtype=pl.String).alias("review_text"),
        pl.lit(None, dtype=pl.Float32).alias("watch_fraction"),
    )
    users = (
        interactions.group_by("user_id")
        .agg(pl.col("timestamp").min().alias("created_at"))
        .sort("user_id")
    )
    return MovieLensRaw(
        items=items,
        users=users,
        interactions=interactions,
        media_root=src.resolve(),
        name=src.name or "movielens",
        source_files={
            "items": str(src / MOVIES),
            "users": str(src / RATINGS),
            "interactions": str(src / RATINGS),
            "tag_events": str(src / TAGS),
        },
        tag_events=tag_events(tagged),
    )


def movie_items(movies: pl.DataFrame, tags: pl.DataFrame, poster_ids: set[int]) -> pl.DataFrame:
    """Canonical item rows from movies.csv (+ ``tag_rows``, + which posters exist)."""
    raw_title = pl.col("title").str.strip_chars()
    title = raw_title.str.replace(_YEAR, "").str.strip_chars()
    genres = (
        pl.when(pl.col("genres").is_null() | (pl.col("genres") == NO_GENRES))
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.col("genres").str.split("|"))
    )
    items = movies.select(
        pl.col("movieId").alias("item_id"),
        pl.when(title.str.contains(_ARTICLE))
        .then(title.str.replace(_ARTICLE, "$2 $1"))
        .otherwise(title)
        .alias("title"),
        genres.alias("genres"),
        raw_title.str.extract(_YEAR, 1).cast(pl.Int32).alias("year"),
    )
    items = items.join(item_tags(tags), on="item_id", how="left").with_columns(
        pl.col("tags").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    # No plot summaries: the genres and tags are the text, and item text renders both columns.
    # A copy in the undated description would repeat them, and would show each tag before it
    # was written (``tag_events`` dates them).
    has_poster = pl.col("item_id").is_in(sorted(poster_ids))
    return items.with_columns(
        pl.lit(None, dtype=pl.String).alias("description"),
        pl.when(has_poster).then(pl.format("posters/{}.jpg", "item_id")).alias("poster_path"),
        pl.lit(None, dtype=pl.String).alias("trailer_path"),
    ).select(
        "item_id", "title", "description", "genres", "tags", "year", "poster_path", "trailer_path"
    )


def tag_rows(tags: pl.DataFrame | None) -> pl.DataFrame:
    """tags.csv in canonical names, tag normalised (stripped, lowercase), blank tags dropped.

    ``timestamp`` (UTC) is null where the row has none: such a tag is undated metadata.
    """
    if tags is None or tags.is_empty():
        return no_tag_events()
    return (
        tags.select(
            pl.col("userId").alias("user_id"),
            pl.col("movieId").alias("item_id"),
            pl.col("tag").str.strip_chars().str.to_lowercase().alias("tag"),
            pl.col("timestamp").alias("epoch"),
        )
        .filter(
            pl.col("item_id").is_not_null() & pl.col("tag").is_not_null() & (pl.col("tag") != "")
        )
        .select("user_id", "item_id", "tag", _epoch_seconds("epoch").alias("timestamp"))
    )


def tag_events(rows: pl.DataFrame) -> pl.DataFrame:
    """The dated tags of ``tag_rows``: what point-in-time item text is rebuilt from."""
    return rows.filter(pl.col("timestamp").is_not_null())


def item_tags(rows: pl.DataFrame) -> pl.DataFrame:
    """item_id -> unique tags of ``tag_rows``, most frequent first (ties alphabetical), capped."""
    if rows.is_empty():
        return pl.DataFrame(schema={"item_id": pl.Int64, "tags": pl.List(pl.String)})
    return (
        rows.group_by("item_id", "tag")
        .len()
        .sort(["item_id", "len", "tag"], descending=[False, True, False])
        .group_by("item_id", maintain_order=True)
        .agg(pl.col("tag").head(MAX_TAGS).alias("tags"))
    )


def _poster_ids(directory: Path) -> set[int]:
    if not directory.is_dir():
        return set()
    ids = set()
    for name in os.listdir(directory):
        stem, ext = os.path.splitext(name)
        if ext.lower() == ".jpg" and stem.isdigit():
            ids.add(int(stem))
    return ids


def _epoch_seconds(column: str) -> pl.Expr:
    return pl.from_epoch(pl.col(column), time_unit="s").dt.replace_time_zone("UTC").cast(TIMESTAMP)
