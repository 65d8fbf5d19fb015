"""`recsys train`: fit the recommenders on the workspace's data into a new artifacts run."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from recsys.catalog import load_workspace_catalog
from recsys.config import Workspace
from recsys.interactions import IdVocab
from recsys.ranker.itemknn import ItemKNN
from recsys.ranker.popularity import Popularity

LATEST = "LATEST"


def new_run_dir(ws: Workspace) -> Path:
    run_id = datetime.now(UTC).strftime("run-%Y%m%d-%H%M%S-%f")
    run = ws.artifacts_dir / run_id
    run.mkdir(parents=True)
    return run


def latest_run(ws: Workspace) -> Path | None:
    """The run `recsys train` wrote last (it becomes `current` once `recsys index` publishes it)."""
    marker = ws.artifacts_dir / LATEST
    if not marker.exists():
        return None
    run = ws.artifacts_dir / marker.read_text().strip()
    return run if run.exists() else None


def run_train(ws: Workspace, update: bool = False) -> str:
    catalog = load_workspace_catalog(ws)
    item_vocab = IdVocab.from_ids(catalog.items["item_id"])
    run = new_run_dir(ws)
    timings = {}
    for name, fit in (("popularity", Popularity.fit), ("itemknn", ItemKNN.fit)):
        start = time.perf_counter()
        fit(catalog.interactions, item_vocab).save(run / "models" / name)
        timings[name] = round(time.perf_counter() - start, 2)
    manifest = {
        "run_id": run.name,
        "dataset": catalog.summary(),
        "models": sorted(timings),
        "fit_seconds": timings,
        "created_at": datetime.now(UTC).isoformat(),
    }
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (ws.artifacts_dir / LATEST).write_text(run.name)
    fits = ", ".join(f"{k} {v}s" for k, v in timings.items())
    return f"train: {run.name} ({fits})"
