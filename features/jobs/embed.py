"""``recsys embed``: encode every modality of the catalog into the feature store, then fuse."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tqdm.auto import tqdm

from features.encoders.base import Encoder
from features.jobs.config import JOB_MODALITIES, EmbedConfig, normalise_modalities
from features.jobs.engines import create_engine
from features.jobs.fuse import fuse_items
from features.jobs.inputs import build_inputs
from features.jobs.pool import EncoderPool
from features.jobs.ratings import embed_ratings
from features.jobs.runner import ModalityResult, encode_modality
from features.store import FeatureStore, table_name
from recsys.core.catalog import load_workspace_catalog
from recsys.core.workspace import Workspace


def new_job_id() -> str:
    return f"embed-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_embed(
    ws: Workspace,
    modalities: list[str] | None = None,
    engine: str = "local",
    *,
    config: EmbedConfig | None = None,
    encoders: Mapping[str, Encoder] | None = None,
    progress: bool = True,
) -> str:
    """Embed the workspace catalog; returns a one-line summary (details in the jobs table).

    Args:
        ws: Workspace with canonical data (``recsys preprocess`` first).
        modalities: Job modalities (text, image, video, ratings, review_text, history_text);
            None = all.
        engine: "local" or "ray" (Ray Data on a local cluster; same tables).
        config: Job config; default ``EmbedConfig.load(ws)`` (``<ws>/embed.json`` or defaults).
        encoders: Already-built encoders per modality (reuse loaded models; tests pass doubles).
        progress: Show tqdm bars and print one summary line per table.
    """
    chosen = normalise_modalities(modalities)
    cfg = config or EmbedConfig.load(ws)
    runner = create_engine(engine)
    catalog = load_workspace_catalog(ws)
    store = FeatureStore(ws.lancedb_uri)
    job_id, started = new_job_id(), datetime.now(UTC)
    results: list[ModalityResult] = []
    pool = EncoderPool(cfg, catalog, encoders)  # each model loads once, shared by modalities
    for modality in chosen:
        if modality == "ratings":
            results.extend(embed_ratings(store, catalog, job_id, cfg.encoder_options.get(modality)))
            continue
        entity, table_modality = JOB_MODALITIES[modality]
        spec = build_inputs(catalog, modality, cfg)
        factory = pool.factory(modality)
        try:
            encoder = pool.get(modality)
            encoder.version  # noqa: B018  (some encoders only fail when their weights load)
        except (KeyError, FileNotFoundError, OSError) as exc:  # unknown name, missing weights
            name = table_name(entity, table_modality)
            results.append(ModalityResult(name, unavailable=f"{type(exc).__name__}: {exc}"))
            continue
        results.append(
            encode_modality(
                store,
                spec,
                encoder,
                factory,
                runner,
                job_id,
                cfg.batch_size,
                cfg.chunk_size,
                progress,
            )
        )
    if cfg.fuse:
        item_ids = [int(i) for i in catalog.items["item_id"].to_list()]
        results.append(fuse_items(store, item_ids, cfg.fusion, job_id))
    summary: dict[str, Any] = {r.table: r.to_dict() for r in results}
    summary["engine"] = engine
    store.log_job(job_id, "embed", "done", started, summary)
    if progress:
        for r in results:
            tqdm.write(r.line())
    parts = [
        f"{r.table} {r.encoded}/{r.skipped}/{r.failed}"
        if not r.unavailable
        else f"{r.table} unavailable"
        for r in results
    ]
    return f"embed {job_id} ({engine}): " + ", ".join(parts) + " (encoded/skipped/failed)"
