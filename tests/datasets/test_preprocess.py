"""preprocess: format detection, canonical output, and bad input that leaves nothing behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from recsys.app.cli import app
from recsys.core.catalog import Catalog
from recsys.core.schemas import TAG_EVENTS_SCHEMA
from recsys.core.validation import DataValidationError
from recsys.core.workspace import Workspace
from recsys.datasets.preprocess import preprocess
from recsys.datasets.synthetic import SynthConfig, generate

MOVIES = 'movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n2,"Heat, The (1995)",Crime\n'
RATINGS = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,2.0,964982704\n"


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("raw") / "synthetic"
    generate(SynthConfig(items=40, users=20, interactions=300, seed=0, media=True), out)
    return out


def write_ml(root: Path, ratings: str = RATINGS, movies: str | None = MOVIES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ratings.csv").write_text(ratings)
    if movies is not None:
        (root / "movies.csv").write_text(movies)
    return root


def snapshot(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def test_synthetic_round_trip_and_idempotent(synth_dir, tmp_path):
    ws = Workspace(tmp_path / "ws")
    summary = preprocess(synth_dir, ws)
    assert "40 items" in summary and "no rows dropped" in summary
    catalog = Catalog.load(ws.data_dir)
    assert catalog.media_root is not None and catalog.media_root.is_absolute()
    assert catalog.media_root == (synth_dir / "media").resolve()
    poster = catalog.items.filter(pl.col("poster_path").is_not_null())["poster_path"][0]
    assert catalog.resolve_media(poster).parent.name == "posters"
    assert catalog.items.equals(pl.read_parquet(synth_dir / "items.parquet"))
    first = snapshot(ws.data_dir)
    preprocess(synth_dir, ws)
    assert snapshot(ws.data_dir) == first
    assert sorted(p.name for p in ws.root.iterdir()) == ["data"]  # no temp dirs left behind


def test_movielens_detected(tmp_path):
    ws = Workspace(tmp_path / "ws")
    preprocess(write_ml(tmp_path / "ml"), ws)
    catalog = Catalog.load(ws.data_dir)
    assert catalog.items["title"].to_list() == ["Toy Story", "The Heat"]
    assert catalog.interactions.height == 2 and catalog.media_root == (tmp_path / "ml").resolve()


def test_movielens_tag_events_are_saved_with_the_catalog(tmp_path):
    src = write_ml(tmp_path / "ml")
    # item 3 is not in movies.csv: its tag is dropped with it, and counted
    (src / "tags.csv").write_text(
        "userId,movieId,tag,timestamp\n1,1,Pixar,964982705\n1,3,lost,964982706\n"
    )
    ws = Workspace(tmp_path / "ws")
    summary = preprocess(src, ws)
    assert "1 tag events" in summary and "tag_events: 1 dangling item_id" in summary
    events = Catalog.load(ws.data_dir).tag_events
    assert dict(events.schema) == TAG_EVENTS_SCHEMA
    assert events.rows() == [(1, 1, "pixar", datetime.fromtimestamp(964982705, tz=UTC))]


def test_synthetic_catalog_has_no_tag_events(synth_dir, tmp_path):
    ws = Workspace(tmp_path / "ws")
    preprocess(synth_dir, ws)
    catalog = Catalog.load(ws.data_dir)
    assert catalog.tag_events.is_empty() and catalog.items["tags"].list.len().sum() > 0


def test_malformed_csv_row_via_cli_names_file_and_line(tmp_path):
    src = write_ml(tmp_path / "ml", ratings=RATINGS + "1,2,3.0\n")
    ws_root = tmp_path / "ws"
    result = CliRunner().invoke(app, ["--workspace", str(ws_root), "preprocess", str(src)])
    assert result.exit_code != 0
    assert "ratings.csv" in result.output and "line 4" in result.output
    assert "Traceback" not in result.output
    assert not ws_root.exists()


def test_bad_input_leaves_existing_data_unchanged(tmp_path):
    ws = Workspace(tmp_path / "ws")
    preprocess(write_ml(tmp_path / "good"), ws)
    before = snapshot(ws.data_dir)
    bad = write_ml(tmp_path / "bad", movies="movieId,title,genres\nx1,Broken (1999),Drama\n")
    with pytest.raises(DataValidationError, match=r"movies\.csv: line 2: column 'movieId'"):
        preprocess(bad, ws)
    assert snapshot(ws.data_dir) == before


def test_missing_required_file(tmp_path, synth_dir):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(FileNotFoundError, match="movies.csv"):
        preprocess(write_ml(tmp_path / "ml", movies=None), ws)
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "dataset.json").write_text((synth_dir / "dataset.json").read_text())
    (partial / "items.parquet").write_bytes((synth_dir / "items.parquet").read_bytes())
    with pytest.raises(FileNotFoundError, match="users.parquet"):
        preprocess(partial, ws)
    with pytest.raises(FileNotFoundError, match="not found"):
        preprocess(tmp_path / "nowhere", ws)
    assert not ws.root.exists()


def test_unknown_format(tmp_path):
    ws = Workspace(tmp_path / "ws")
    src = tmp_path / "odd"
    src.mkdir()
    (src / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="unknown dataset format .*ratings.csv \\+ movies.csv"):
        preprocess(src, ws)
    (src / "dataset.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="'something-else'"):
        preprocess(src, ws)
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "preprocess", str(src)])
    assert result.exit_code == 1 and "unknown dataset format" in result.output
    assert not ws.root.exists()


def test_media_paths_escaping_root_are_cleared(synth_dir, tmp_path):
    src = tmp_path / "evil"
    src.mkdir()
    for name in ("dataset.json", "users.parquet", "interactions.parquet"):
        (src / name).write_bytes((synth_dir / name).read_bytes())
    items = pl.read_parquet(synth_dir / "items.parquet").with_columns(
        pl.when(pl.col("item_id") == 1)
        .then(pl.lit("../../etc/passwd"))
        .otherwise(pl.col("poster_path"))
        .alias("poster_path")
    )
    items.write_parquet(src / "items.parquet")
    ws = Workspace(tmp_path / "ws")
    summary = preprocess(src, ws)
    assert "poster_path outside media root (cleared)" in summary
    catalog = Catalog.load(ws.data_dir)
    assert catalog.items.filter(pl.col("item_id") == 1)["poster_path"][0] is None


def test_non_utf8_csv_is_a_clear_error(tmp_path):
    src = write_ml(tmp_path / "ml")
    (src / "movies.csv").write_bytes(b"movieId,title,genres\n1,Am\xe9lie (2001),Romance\n")
    with pytest.raises(DataValidationError, match=r"movies\.csv: not UTF-8"):
        preprocess(src, Workspace(tmp_path / "ws"))
