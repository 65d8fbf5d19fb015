"""The canonical dataset of a workspace: items, users, interactions, dated tag events and where
media lives."""

from __future__ import annotations

import json
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
        """Absolute path of a media file, refusing anything that escapes the media root."""
        if not relative or self.media_root is None:
            return None
        root = self.media_root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise PermissionError(f"media path {relative!r} is outside the media root {root}")
        return path

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


def load_workspace_catalog(ws: Workspace) -> Catalog:
    return Catalog.load(ws.data_dir)
