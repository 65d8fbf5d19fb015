"""Workspace layout and the canonical catalog: atomic save, media-root confinement."""

from __future__ import annotations

import polars as pl
import pytest

from recsys.core.catalog import Catalog, CatalogMissingError
from recsys.core.workspace import Workspace
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA


def _empty_catalog(media_root=None) -> Catalog:
    return Catalog(
        pl.DataFrame(schema=ITEMS_SCHEMA),
        pl.DataFrame(schema=USERS_SCHEMA),
        pl.DataFrame(schema=INTERACTIONS_SCHEMA),
        media_root=media_root,
    )


def test_workspace_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RECSYS_WORKSPACE", str(tmp_path / "w"))
    ws = Workspace.at()
    assert ws.root == (tmp_path / "w").resolve()
    assert ws.data_dir == ws.root / "data"
    assert Workspace.at(tmp_path / "x").root == (tmp_path / "x").resolve()


def test_save_replaces_and_load_round_trips(tmp_path):
    target = tmp_path / "data"
    _empty_catalog().save(target)
    _empty_catalog(media_root=tmp_path).save(target)
    loaded = Catalog.load(target)
    assert loaded.media_root == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


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
