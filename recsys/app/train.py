"""`recsys train`: fit the recommenders on the workspace's data into a new artifacts run.

Popularity and item-kNN are always refit (seconds); the hybrid ranker is trained from scratch, or
with ``update=True`` warm-started from the latest run's checkpoint and trained on the
interactions newer than it saw (plus a replay sample of older ones). Events the API logged
(``<workspace>/events/``) are added to the canonical interactions first.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from recsys.app.content import load_item_content, load_user_text
from recsys.core.catalog import load_workspace_catalog
from recsys.core.event_log import with_logged_events
from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from recsys.models.hybrid import HybridRecommender, fit_hybrid, update_hybrid
from recsys.models.itemknn import ItemKNN
from recsys.models.popularity import Popularity

HYBRID = "hybrid"


def _fit_hybrid(ws: Workspace, catalog, update: bool, directory: Path, log, config) -> dict:
    """Train (or warm-start) the hybrid ranker, save it, return its lineage."""
    item_ids = catalog.items["item_id"].to_numpy()
    lineage: dict = {}
    content, mask = load_item_content(ws, item_ids, lineage)
    user_text = load_user_text(ws, lineage)
    previous = Run.latest(ws.artifacts_dir)
    checkpoint = previous.model_dir(HYBRID) if previous else None
    if update and previous is not None and checkpoint is not None and checkpoint.exists():
        init = HybridRecommender.load(checkpoint)
        if init.model.content.shape[1] != content.shape[1]:
            raise ValueError(
                f"content vectors changed width ({init.model.content.shape[1]} -> "
                f"{content.shape[1]}) since {previous.name}: run `recsys train` without --update"
            )
        if config is not None:
            init.model.cfg = config
        rec = update_hybrid(init, catalog.interactions, item_ids, content, log=log,
                            user_text=user_text)  # fmt: skip
        rec.lineage["warm_start_from"] = previous.name
    else:
        if update:
            log("train --update: no previous hybrid checkpoint, training from scratch")
        rec = fit_hybrid(catalog.interactions, item_ids, content, config, log=log,
                         user_text=user_text)  # fmt: skip
    rec.lineage["features"] = lineage
    rec.lineage["items_with_content_vectors"] = int(mask.sum())
    rec.save(directory)
    return rec.lineage


def run_train(ws: Workspace, update: bool = False, log=print, config=None) -> str:
    """Fit popularity, item-kNN and the hybrid ranker into a new run; mark it LATEST.

    Args:
        ws: the workspace (canonical data in ``ws.data_dir``, features in ``ws.lancedb_uri``).
        update: warm-start the hybrid ranker from the latest run instead of a full retrain.
        log: receives the hybrid ranker's progress lines.
        config: HybridConfig override (default: the checkpoint's on update, else defaults).
    """
    catalog, events_summary = with_logged_events(load_workspace_catalog(ws), ws)
    if events_summary:
        log(events_summary)
    item_vocab = IdVocab.from_ids(catalog.items["item_id"])
    run = Run.create(ws.artifacts_dir)
    timings = {}
    for name, fit in (("popularity", Popularity.fit), ("itemknn", ItemKNN.fit)):
        start = time.perf_counter()
        fit(catalog.interactions, item_vocab).save(run.model_dir(name))
        timings[name] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    hybrid = _fit_hybrid(ws, catalog, update, run.model_dir(HYBRID), log, config)
    timings[HYBRID] = round(time.perf_counter() - start, 2)
    manifest = {
        "run_id": run.name,
        "dataset": catalog.summary(),
        "models": sorted(timings),
        "fit_seconds": timings,
        "update": update,
        "hybrid": {k: hybrid.get(k) for k in ("best_valid_ndcg10", "warm_start_from", "device")},
        "created_at": datetime.now(UTC).isoformat(),
    }
    run.write_manifest(manifest)
    run.mark_latest()
    fits = ", ".join(f"{k} {v}s" for k, v in timings.items())
    mode = "update" if hybrid.get("warm_start") else "full"
    ndcg = hybrid.get("best_valid_ndcg10")
    return f"train: {run.name} ({fits}; hybrid {mode}, best valid NDCG@10 {ndcg:.3f})"
