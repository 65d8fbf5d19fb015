"""Read the API's event log back as canonical interactions for the next `recsys train`.

The API appends one JSON object per line to ``<workspace>/events/events-YYYY-MM-DD.jsonl``
(``serving/events.py``). Training reads every file, keeps the lines that parse and conform, and
counts the rest: a half-written last line after a crash must not stop a retrain.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from recsys.core.catalog import Catalog
from recsys.core.schemas import INTERACTIONS_SCHEMA
from recsys.core.validation import ValidationReport, clean, conform
from recsys.core.workspace import Workspace


def read_events(directory: Path) -> tuple[pl.DataFrame, int]:
    """All logged events as an interactions frame, and how many lines could not be read."""
    rows, bad = [], 0
    for path in sorted(Path(directory).glob("events-*.jsonl")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
                rows.append({k: row.get(k) for k in INTERACTIONS_SCHEMA})
            except ValueError:
                bad += 1
    if not rows:
        return pl.DataFrame(schema=INTERACTIONS_SCHEMA), bad
    frame = pl.DataFrame(rows, schema_overrides={"timestamp": pl.String}, infer_schema_length=None)
    frame = frame.with_columns(pl.col("timestamp").str.to_datetime(time_zone="UTC", strict=False))
    return conform(frame, "interactions", source=str(directory)), bad


def with_logged_events(catalog: Catalog, ws: Workspace) -> tuple[Catalog, str]:
    """The catalog plus the API's logged events (validated like any input), and a summary."""
    events, unreadable = read_events(ws.events_dir)
    if not events.height and not unreadable:
        return catalog, ""
    report = ValidationReport()
    report.add("events", "unreadable line", unreadable)
    items, users, events, report = clean(catalog.items, catalog.users, events, report)
    merged = pl.concat([catalog.interactions, events]).unique(maintain_order=True)
    summary = f"events: {events.height:,} logged interactions added; {report.summary()}"
    return Catalog(items, users, merged, catalog.media_root, catalog.name), summary
