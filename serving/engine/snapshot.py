"""One immutable, fully loaded version of everything the engine reads."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from recsys.core.catalog import Catalog, load_workspace_catalog
from recsys.core.workspace import Workspace
from serving.engine.items import Histories, ItemTable
from serving.engine.models import RunModels, load_run_models
from serving.engine.vectors import (
    ModalityVectors,
    PublishedSearch,
    VectorSearch,
    load_modalities,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """Catalog arrays, models and vectors of one published run; never mutated after load."""

    run_dir: Path
    catalog: Catalog
    items: ItemTable
    histories: Histories
    models: RunModels
    modalities: dict[str, ModalityVectors]
    user_space: ModalityVectors | None  # taste vectors live here: hybrid > fused > text
    content_space: ModalityVectors | None  # L2-normalised item embeddings for MMR (fused/text)
    index_version: str
    load_seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def model_version(self) -> str:
        return self.models.version


def resolve_run(ws: Workspace) -> Path:
    """The run `artifacts/current` points at (or the latest trained run before any index)."""
    run = ws.current_run()
    if run is None:
        from recsys.app.train import latest_run

        run = latest_run(ws)
    if run is None:
        raise FileNotFoundError(
            f"no trained run in {ws.artifacts_dir}: run `recsys train` and `recsys index` first"
        )
    return run


def load_snapshot(
    ws: Workspace, run_dir: Path | None = None, previous: Snapshot | None = None
) -> Snapshot:
    """Load catalog, models of ``run_dir`` (default: the current run) and item vectors.

    ``previous`` (the snapshot being replaced) lets unchanged vector tables be reused.
    """
    start = time.perf_counter()
    run = run_dir or resolve_run(ws)
    catalog = load_workspace_catalog(ws)
    items = ItemTable.from_catalog(catalog)
    models = load_run_models(run, items.vocab)
    modalities = load_modalities(
        ws.lancedb_uri,
        items.vocab,
        previous.modalities if previous else None,
        previous.items.vocab if previous else None,
    )
    content_space = modalities.get("fused") or modalities.get("text")
    user_space = _hybrid_space(models, items) or content_space
    user_space = _with_published_index(run, user_space, items)
    snap = Snapshot(
        run_dir=run,
        catalog=catalog,
        items=items,
        histories=Histories.from_interactions(catalog.interactions, items.vocab),
        models=models,
        modalities=modalities,
        user_space=user_space,
        content_space=content_space,
        index_version=_index_version(run, user_space),
        load_seconds=time.perf_counter() - start,
    )
    log.info(
        "loaded run %s: %d items, modalities %s, in %.1fs",
        run.name,
        len(items),
        sorted(modalities),
        snap.load_seconds,
    )
    return snap


def _hybrid_space(models: RunModels, items: ItemTable) -> ModalityVectors | None:
    """Item vectors of the hybrid ranker as a searchable space (None without a hybrid)."""
    if models.hybrid is None:
        return None
    try:
        vecs = np.asarray(models.hybrid.item_vectors(), np.float32)  # (n_model, d)
        pos = items.vocab.index(models.hybrid.item_vocab.ids)
        matrix = np.zeros((len(items), vecs.shape[1]), np.float32)
        matrix[pos[pos >= 0]] = vecs[pos >= 0]
        present = np.zeros(len(items), bool)
        present[pos[pos >= 0]] = True
    except Exception as exc:  # a hybrid that cannot serve must not take the service down
        log.warning("hybrid ranker unusable, serving without it: %s", exc)
        return None
    return ModalityVectors(
        "hybrid", "models/hybrid", matrix, present, VectorSearch(matrix, present), 0.0, 1.0
    )


SOURCES = {"hybrid": "hybrid", "fused": "fused", "item_text": "text"}


def _with_published_index(run: Path, space: ModalityVectors | None, items: ItemTable):
    """Search ``space`` with the run's published FAISS index when it indexes that space."""
    directory = run / "index"
    if space is None or not (directory / "manifest.json").exists():
        return space
    manifest = json.loads((directory / "manifest.json").read_text())
    source = SOURCES.get(manifest.get("lineage", {}).get("source", ""))
    if source != space.name or manifest.get("dim") != space.matrix.shape[1]:
        log.warning(
            "published index (%s) does not cover the %s space; using an in-memory index",
            manifest.get("lineage", {}).get("source"),
            space.name,
        )
        return space
    try:
        from index.base import load_index

        index = load_index(directory, mmap=True)
    except Exception as exc:  # an unreadable index must not stop serving: fall back
        log.warning("cannot load the published index %s: %s", directory, exc)
        return space
    return replace(space, ann=PublishedSearch(index, items.vocab, manifest.get("kind", "?")))


def _index_version(run: Path, space: ModalityVectors | None) -> str:
    if space is not None and isinstance(space.ann, PublishedSearch):
        return f"{space.ann.kind}@{run.name}"
    if space is None:
        return "none"
    return f"{space.name}-{space.ann.kind}@{run.name}"
