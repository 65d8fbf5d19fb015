"""Events logged by the API come back as validated interactions for the next train."""

from __future__ import annotations

import json

import polars as pl

from recsys.core.catalog import Catalog
from recsys.core.event_log import read_events, with_logged_events
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
from recsys.core.workspace import Workspace


def _write_log(ws: Workspace, lines: list[str]) -> None:
    ws.events_dir.mkdir(parents=True)
    (ws.events_dir / "events-2026-11-23.jsonl").write_text("\n".join(lines) + "\n")


def test_good_lines_are_read_and_broken_ones_counted(tmp_path):
    ws = Workspace(tmp_path)
    event = {
        "user_id": 7,
        "item_id": 1,
        "timestamp": "2026-11-23T10:00:00+00:00",
        "kind": "rating",
        "rating": 4.5,
        "review_text": None,
        "watch_fraction": None,
    }
    _write_log(ws, [json.dumps(event), '{"user_id": 7, "item_id"'])  # crash mid-line

    events, bad = read_events(ws.events_dir)

    assert bad == 1
    assert events.schema == pl.Schema(INTERACTIONS_SCHEMA)
    assert events.row(0, named=True)["rating"] == 4.5


def test_events_join_the_catalog_and_dangling_items_are_dropped(tmp_path):
    ws = Workspace(tmp_path)
    items = (
        pl.DataFrame({"item_id": [1, 2], "title": ["A", "B"]})
        .cast({"item_id": pl.Int64})
        .with_columns(
            *(
                pl.lit(None, dtype=t).alias(c)
                for c, t in ITEMS_SCHEMA.items()
                if c not in ("item_id", "title")
            )
        )
    )
    catalog = Catalog(
        items.select(list(ITEMS_SCHEMA)),
        pl.DataFrame(schema=USERS_SCHEMA),
        pl.DataFrame(schema=INTERACTIONS_SCHEMA),
    )
    base = {"timestamp": "2026-11-23T10:00:00Z", "kind": "view"}
    _write_log(
        ws,
        [
            json.dumps({"user_id": 9, "item_id": 2, **base}),
            json.dumps({"user_id": 9, "item_id": 99, **base}),
        ],
    )

    merged, summary = with_logged_events(catalog, ws)

    assert merged.interactions["item_id"].to_list() == [2]
    assert merged.users["user_id"].to_list() == [9]  # a brand-new user from the API
    assert "dangling item_id" in summary
