"""The canonical dataset of a workspace: items, users, interactions, dated tag events and where
media lives."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from recsys.core.atomic import replace_dir
from recsys.core.schemas import TAG_EVENTS_SCHEMA
from recsys.core.workspace import Workspace

MANIFEST = "dataset.json"
TAG_EVENTS = "tag_events.parquet"


def no_tag_events() -> pl.DataFrame:
    """The empty tag-events table (a source whose tags, if any, are undated metadata)."""
    return pl.DataFrame(schema=TAG_EVENTS_SCHEMA)


class CatalogMissingError(FileNotFoundError):
    """No canonical data in the workspace yet."""


@dataclass
class Catalog:
    items: pl.DataFrame
    users: pl.DataFrame
    interactions: pl.DataFrame
    media_root: Path | None = None
    name: str = "dataset"
    # Who tagged what when (``TAG_EVENTS_SCHEMA``): lets content features be built as of a date.
    tag_events: pl.DataFrame = field(default_factory=no_tag_events)

    def summary(self) -> str:
        tags = f", {self.tag_events.height:,} tag events" if self.tag_events.height else ""
        return (
            f"{self.name}: {self.items.height:,} items, {self.users.height:,} users, "
            f"{self.interactions.height:,} interactions{tags}"
        )

    def resolve_media(self, relative: str | None) -> Path | None:
        """Absolute path of a media file under the media root; see ``confined_media_path``.

        The path stays lexical (symlinks not followed): a dataset whose ``posters/`` links to
        another disk keeps its posters under the root, for every later check against it.
        """
        if not relative or self.media_root is None:
            return None
        return confined_media_path(self.media_root, relative)

    def save(self, directory: Path) -> None:
        """Write atomically: a reader sees the old tables or the new ones, never a mix."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=directory.parent))
        try:
            self.items.write_parquet(tmp / "items.parquet")
            self.users.write_parquet(tmp / "users.parquet")
            self.interactions.write_parquet(tmp / "interactions.parquet")
            self.tag_events.write_parquet(tmp / TAG_EVENTS)
            manifest = {
                "name": self.name,
                "media_root": str(self.media_root) if self.media_root else None,
                "counts": {
                    "items": self.items.height,
                    "users": self.users.height,
                    "interactions": self.interactions.height,
                    "tag_events": self.tag_events.height,
                },
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
            replace_dir(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, directory: Path) -> Catalog:
        directory = Path(directory)
        manifest_path = directory / MANIFEST
        if not manifest_path.exists():
            raise CatalogMissingError(
                f"no canonical dataset in {directory}: run `recsys preprocess SRC` first"
            )
        manifest = json.loads(manifest_path.read_text())
        media_root = manifest.get("media_root")
        tags = directory / TAG_EVENTS
        return cls(
            items=pl.read_parquet(directory / "items.parquet"),
            users=pl.read_parquet(directory / "users.parquet"),
            interactions=pl.read_parquet(directory / "interactions.parquet"),
            media_root=Path(media_root) if media_root else None,
            name=manifest.get("name", "dataset"),
            # Workspaces written before tag events were kept have no file: no dated tags.
            tag_events=pl.read_parquet(tags) if tags.exists() else no_tag_events(),
        )


def fingerprint(directory: Path) -> str:
    """A digest of the canonical tables' bytes: equal exactly when the same data would load.

    What answers precomputed from this data are checked against (``Catalog.save`` replaces
    the whole folder, so any new data changes it). Hashing reads every file once: ~5 MB, a
    few milliseconds, at 100k items.
    """
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in Path(directory).iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def confined_media_path(root: str | Path, relative: str | Path) -> Path:
    """``root / relative`` normalised lexically, refused (``PermissionError``) unless under root.

    Containment is checked before any symlink is followed: a ``..`` or an absolute path that
    leaves the root is refused, while a symlink inside the dataset (``posters/`` -> another
    disk) is allowed, because the dataset's own layout put it there. Only the root itself is
    resolved, so a root reached through a symlink compares equal however it is spelled.
    Opening the returned path follows the links.
    """
    base = Path(root).resolve()
    path = Path(os.path.normpath(base / relative))  # an absolute ``relative`` replaces base
    if not path.is_relative_to(base):
        raise PermissionError(f"media path {str(relative)!r} is outside the media root {base}")
    return path


def load_workspace_catalog(ws: Workspace) -> Catalog:
    return Catalog.load(ws.data_dir)
