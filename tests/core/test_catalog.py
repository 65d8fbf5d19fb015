"""Workspace layout and the canonical catalog: atomic save, media-root confinement."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from recsys.core.catalog import Catalog, CatalogMissingError
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, TAG_EVENTS_SCHEMA, USERS_SCHEMA
from recsys.core.settings import Settings
from recsys.core.workspace import Workspace


def _empty_catalog(media_root=None) -> Catalog:
    return Catalog(
        pl.DataFrame(schema=ITEMS_SCHEMA),
        pl.DataFrame(schema=USERS_SCHEMA),
        pl.DataFrame(schema=INTERACTIONS_SCHEMA),
        media_root=media_root,
    )


def test_settings_read_the_environment_once_into_a_workspace(monkeypatch, tmp_path):
    monkeypatch.setenv("RECSYS_WORKSPACE", str(tmp_path / "w"))
    monkeypatch.setenv("RECSYS_LANCEDB_URI", "s3://bucket/store")
    ws = Settings().open_workspace()
    assert ws.root == (tmp_path / "w").resolve()
    assert ws.data_dir == ws.root / "data"
    assert ws.lancedb_uri == "s3://bucket/store"
    monkeypatch.delenv("RECSYS_LANCEDB_URI")
    assert ws.lancedb_uri == "s3://bucket/store"  # read once: a later change is not seen
    assert Workspace.at(tmp_path / "x").lancedb_uri == str((tmp_path / "x").resolve() / "lancedb")


def test_save_replaces_and_load_round_trips(tmp_path):
    target = tmp_path / "data"
    _empty_catalog().save(target)
    _empty_catalog(media_root=tmp_path).save(target)
    loaded = Catalog.load(target)
    assert loaded.media_root == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_tag_events_round_trip_and_old_workspaces_have_none(tmp_path):
    at = datetime(2018, 5, 2, 18, 33, 33, tzinfo=UTC)
    events = pl.DataFrame([(7, 1, "pixar", at)], schema=TAG_EVENTS_SCHEMA, orient="row")
    catalog = _empty_catalog()
    catalog.tag_events = events
    catalog.save(tmp_path / "data")
    assert Catalog.load(tmp_path / "data").tag_events.rows() == [(7, 1, "pixar", at)]
    (tmp_path / "data" / "tag_events.parquet").unlink()  # as written before tag events existed
    old = Catalog.load(tmp_path / "data")
    assert old.tag_events.is_empty() and dict(old.tag_events.schema) == TAG_EVENTS_SCHEMA
    assert _empty_catalog().tag_events.is_empty()  # a source without dated tags


def test_load_without_data_says_what_to_run(tmp_path):
    with pytest.raises(CatalogMissingError, match="recsys preprocess"):
        Catalog.load(tmp_path / "nothing")


def test_media_paths_cannot_escape_the_media_root(tmp_path):
    catalog = _empty_catalog(media_root=tmp_path)
    assert catalog.resolve_media("posters/1.jpg") == tmp_path / "posters" / "1.jpg"
    with pytest.raises(PermissionError):
        catalog.resolve_media("../../etc/passwd")
    with pytest.raises(PermissionError):
        catalog.resolve_media("/etc/passwd")
