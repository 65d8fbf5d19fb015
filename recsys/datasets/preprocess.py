"""`preprocess`: detect a raw dataset's format, validate it and write the workspace's tables.

Nothing is written until every table has been read, conformed and cleaned, and the final write
is atomic (``Catalog.save``), so a failure leaves the workspace as it was and a re-run simply
replaces the tables.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl

from recsys.core.catalog import Catalog, no_tag_events
from recsys.core.validation import DataValidationError, ValidationReport, clean, conform
from recsys.core.workspace import Workspace
from recsys.datasets import movielens
from recsys.datasets.raw import RawDataset
from recsys.datasets.synthetic import FORMAT as SYNTHETIC_FORMAT

MANIFEST = "dataset.json"
SYNTHETIC_TABLES = {
    "items": "items.parquet",
    "users": "users.parquet",
    "interactions": "interactions.parquet",
}
PROGRESS_MIN_BYTES = 50_000_000  # show stage progress for inputs bigger than this


def preprocess(src: Path, ws: Workspace) -> str:
    """Validate the dataset in ``src`` and save canonical tables to ``ws.data_dir``.

    Raises:
        FileNotFoundError: ``src`` or one of its required files is missing.
        ValueError: unknown layout, or malformed data (``DataValidationError`` names the file,
            and the line for CSV input).
    """
    began = time.perf_counter()
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {src}")
    from tqdm import tqdm

    size = sum(p.stat().st_size for p in src.iterdir() if p.is_file())
    with tqdm(total=4, desc="preprocess", unit="stage", disable=size < PROGRESS_MIN_BYTES) as bar:
        raw = read_raw(src)
        bar.update()
        items = conform(raw.items, "items", raw.source_files.get("items"))
        users = conform(raw.users, "users", raw.source_files.get("users"))
        interactions = conform(
            raw.interactions, "interactions", raw.source_files.get("interactions")
        )
        bar.update()
        report = ValidationReport()
        items = _clear_unsafe_media_paths(items, report)
        items, users, interactions, report = clean(items, users, interactions, report)
        tags = _dated_tags(raw, items, report)
        bar.update()
        catalog = Catalog(
            items, users, interactions, media_root=raw.media_root, name=raw.name, tag_events=tags
        )
        catalog.save(ws.data_dir)
        bar.update()
    seconds = time.perf_counter() - began
    return f"{catalog.summary()} -> {ws.data_dir} in {seconds:.1f}s; {report.summary()}"


def read_raw(src: Path) -> RawDataset:
    """Read ``src`` in whichever supported layout it has."""
    if (src / MANIFEST).is_file():
        return read_synthetic(src)
    if movielens.is_movielens(src):
        return movielens.read_movielens(src)
    raise ValueError(
        f"unknown dataset format in {src}: expected {MANIFEST} (synthetic) "
        f"or {movielens.RATINGS} + {movielens.MOVIES} (MovieLens)"
    )


def read_synthetic(src: Path) -> RawDataset:
    """Read the parquet tables written by ``recsys.datasets.synthetic.generate``."""
    manifest_path = src / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{manifest_path}: not valid JSON ({exc})") from exc
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    if fmt != SYNTHETIC_FORMAT:
        raise ValueError(
            f"unknown dataset format in {src}: {MANIFEST} has format {fmt!r}, "
            f"expected {SYNTHETIC_FORMAT!r}"
        )
    frames = {}
    for table, name in SYNTHETIC_TABLES.items():
        path = src / name
        if not path.is_file():
            raise FileNotFoundError(f"synthetic dataset in {src} is missing required file {name}")
        try:
            frames[table] = pl.read_parquet(path)
        except Exception as exc:  # polars/arrow raise various types for unreadable parquet
            raise DataValidationError(f"{path}: not a readable parquet file ({exc})") from exc
    media = manifest.get("media_root")
    return RawDataset(
        items=frames["items"],
        users=frames["users"],
        interactions=frames["interactions"],
        media_root=(src / media).resolve() if media else None,
        name=src.name or "synthetic",
        source_files={t: str(src / n) for t, n in SYNTHETIC_TABLES.items()},
    )


def _dated_tags(raw: RawDataset, items: pl.DataFrame, report: ValidationReport) -> pl.DataFrame:
    """Conformed tag events of the kept items (none for sources without dated tags)."""
    if not isinstance(raw, movielens.MovieLensRaw):  # the only source with dated tags so far
        return no_tag_events()
    events = conform(raw.tag_events, "tag_events", raw.source_files.get("tag_events"))
    # A tag of a dropped item can enter no text; keeping it would only mislead counts.
    dangling = ~pl.col("item_id").is_in(items["item_id"].implode())
    report.add("tag_events", "dangling item_id", int(events.select(dangling.sum()).item()))
    return events.filter(~dangling)


def _clear_unsafe_media_paths(items: pl.DataFrame, report: ValidationReport) -> pl.DataFrame:
    """Null media paths that are absolute or climb out of the media root (never followed)."""
    for column in ("poster_path", "trailer_path"):
        path = pl.col(column)
        unsafe = path.is_not_null() & (
            path.str.starts_with("/") | path.str.contains(r"(^|[/\\])\.\.([/\\]|$)")
        )
        count = int(items.select(unsafe.sum()).item())
        report.add("items", f"{column} outside media root (cleared)", count)
        if count:
            items = items.with_columns(pl.when(unsafe).then(None).otherwise(path).alias(column))
    return items
