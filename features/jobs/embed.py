"""``recsys embed``: encode every modality of the catalog into the feature store, then fuse."""

from __future__ import annotations

import uuid
from collections import Counter
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


class EmbedIncompleteError(ValueError):
    """A modality encoded 0 of its N rows (or a requested encoder could not load).

    Raised after the whole job ran and was logged: every other table is written. A
    ``ValueError`` because the cause is the input (refused or missing media, a wrong encoder
    name), which the CLI reports as one line and exit status 1.
    """

    def __init__(self, message: str, summary: str):
        super().__init__(message)
        self.summary = summary  # the line ``run_embed`` would have returned


def new_job_id() -> str:
    return f"embed-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def reason_counts(errors: Mapping[int, str], top: int = 3) -> str:
    """The most frequent reason codes of ``errors``: ``missing_file 6, outside_media_root 3``."""
    codes = Counter(reason.partition(":")[0].strip() for reason in errors.values())
    return ", ".join(f"{code} {n}" for code, n in codes.most_common(top))


def problems(results: list[ModalityResult], require_encoders: bool) -> list[str]:
    """What makes a job fail: a table with rows to encode and none encoded or already there,
    and (``require_encoders``) an encoder that could not load."""
    out = []
    for r in results:
        if r.unavailable:
            if require_encoders and r.table != "item_fused":  # fusion has no encoder to load
                out.append(f"{r.table} encoder unavailable ({r.unavailable})")
        elif r.attempted and not (r.encoded or r.skipped):
            out.append(f"{r.table} encoded 0 of {r.attempted} ({reason_counts(r.errors)})")
    return out


def run_embed(
    ws: Workspace,
    modalities: list[str] | None = None,
    engine: str = "local",
    *,
    config: EmbedConfig | None = None,
    encoders: Mapping[str, Encoder] | None = None,
    progress: bool = True,
    require_encoders: bool = False,
) -> str:
    """Embed the workspace catalog; returns a one-line summary (details in the jobs table).

    Raises ``EmbedIncompleteError`` once the whole job has run and been logged when a modality
    encoded 0 of N rows (``N > 0``: a catalog without posters has nothing to fail on).

    Args:
        ws: Workspace with canonical data (``recsys preprocess`` first).
        modalities: Job modalities (text, image, video, ratings, review_text, history_text);
            None = all.
        engine: "local" or "ray" (Ray Data on a local cluster; same tables).
        config: Job config; default ``EmbedConfig.load(ws)`` (``<ws>/embed.json`` or defaults).
        encoders: Already-built encoders per modality (reuse loaded models; tests pass doubles).
        progress: Show tqdm bars and print one summary line per table.
        require_encoders: An encoder that cannot load (missing weights) fails the job instead
            of skipping its modality; the CLI sets it when ``--modalities`` names them.
    """
    chosen = normalise_modalities(modalities)
    cfg = config or EmbedConfig.load(ws)
    runner = create_engine(engine, cfg.ray_actors, cfg.prepare_workers)
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
    failed = problems(results, require_encoders)
    store.log_job(job_id, "embed", "incomplete" if failed else "done", started, summary)
    if progress:
        for r in results:
            tqdm.write(r.line())
    parts = [
        f"{r.table} {r.encoded}/{r.skipped}/{r.failed}"
        if not r.unavailable
        else f"{r.table} unavailable"
        for r in results
    ]
    line = f"embed {job_id} ({engine}): " + ", ".join(parts) + " (encoded/skipped/failed)"
    if failed:
        raise EmbedIncompleteError("; ".join(failed) + f" [other tables written: {line}]", line)
    return line
