"""`recsys train`: fit the ranking pipeline on the workspace's data into a new artifacts run.

A full train runs the pipeline's one training procedure (``recsys.ranking.train``: stage 1 on
the earlier part, LambdaMART on the label chunk, stage 1 refitted on everything). With
``update=True`` the latest run's ranker is kept and stage 1 is refitted on all data, the
tower warm-started from the latest run's (minutes → seconds; retrain fully now and then so the
ranker learns from recent labels). Events the API logged (``<workspace>/events/``) are added
to the canonical interactions first. A popularity model is kept next to it for the page's
"Popular now" row.
"""

from __future__ import annotations

import json
import resource
import time
from datetime import UTC, datetime

from recsys.app.content import load_pipeline_content
from recsys.core.catalog import load_workspace_catalog
from recsys.core.event_log import with_logged_events
from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from recsys.models.popularity import Popularity
from recsys.ranking import PIPELINE, PipelineConfig, fit_pipeline, load_pipeline
from recsys.ranking.pipeline import RankingPipeline
from recsys.ranking.train import refresh_pipeline

PIPELINE_CONFIG = "pipeline.json"  # optional, in the workspace root: PipelineConfig fields


def workspace_pipeline_config(ws: Workspace) -> PipelineConfig:
    """The workspace's pipeline config (``<ws>/pipeline.json`` over the defaults).

    `recsys train` and `recsys evaluate` both read it, so what is evaluated is what is served.
    """
    path = ws.root / PIPELINE_CONFIG
    if not path.exists():
        return PipelineConfig()
    return PipelineConfig.from_dict(json.loads(path.read_text()))  # unset fields: defaults


def run_train(
    ws: Workspace, update: bool = False, log=print, config: PipelineConfig | None = None
) -> str:
    """Fit the ranking pipeline (and popularity) into a new run; mark it LATEST.

    Args:
        ws: the workspace (canonical data in ``ws.data_dir``, features in ``ws.lancedb_uri``).
        update: keep the latest run's ranker, refit stage 1 (tower warm-started) on all data.
        log: receives progress lines.
        config: PipelineConfig override (default: the latest run's on update, else defaults).
    """
    # taken before the event log is read: serving replays only events received after it
    events_cutoff = datetime.now(UTC).isoformat()
    catalog, events_summary = with_logged_events(load_workspace_catalog(ws), ws)
    if events_summary:
        log(events_summary)
    vocab = IdVocab.from_ids(catalog.items["item_id"])
    content = load_pipeline_content(ws, vocab)
    previous = Run.latest(ws.artifacts_dir)
    start = time.perf_counter()
    pipeline: RankingPipeline
    if update and previous is not None and previous.has_model(PIPELINE):
        pipeline = refresh_pipeline(
            load_pipeline(previous), catalog.interactions, catalog.items, content, log_fn=log
        )
        pipeline.info["warm_start_from"] = previous.name
        mode = f"update of {previous.name}"
    else:
        if update:
            log("train --update: no previous pipeline, training from scratch")
        config = config or workspace_pipeline_config(ws)
        pipeline = fit_pipeline(catalog.interactions, catalog.items, content, config, log)
        mode = "full"
    run = Run.create(ws.artifacts_dir)
    pipeline.save(run.model_dir(PIPELINE))
    Popularity.fit(catalog.interactions, vocab).save(run.model_dir(Popularity.name))
    seconds = round(time.perf_counter() - start, 1)
    # the throughput a scale run reports: interactions fitted per second of the whole fit
    rate = round(catalog.interactions.height / max(seconds, 1e-9))
    peak_gb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)  # KiB
    ranker = pipeline.ranker.info if pipeline.ranker else {}
    run.write_manifest(
        {
            "run_id": run.name,
            "dataset": catalog.summary(),
            "models": [PIPELINE, Popularity.name],
            "fit_seconds": {PIPELINE: seconds},
            "interactions_per_second": rate,
            "peak_rss_gb": peak_gb,  # of the train process so far (Linux ru_maxrss)
            "update": update,
            "pipeline": {
                "modalities": pipeline.modalities,
                "tower": pipeline.stage1.tower is not None,
                **{
                    k: pipeline.info.get(k)
                    for k in (
                        "ease_lambda",
                        "label_users",
                        "label_candidate_recall",
                        "warm_start_from",
                    )
                },
                "ranker": ranker,
            },
            "created_at": datetime.now(UTC).isoformat(),
            "events_cutoff": events_cutoff,
        }
    )
    run.mark_latest()
    valid = ranker.get("valid_ndcg10")
    shown = f"{valid:.3f}" if valid is not None else "n/a"
    return (
        f"train: {run.name} (pipeline {mode} in {seconds}s, {rate:,} interactions/s, peak RSS "
        f"{peak_gb} GB; content "
        f"{pipeline.modalities or 'none'}"
        f"; ranker {ranker.get('trees')} trees, held-out label NDCG@10 {shown})"
    )
