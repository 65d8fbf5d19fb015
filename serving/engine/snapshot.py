"""One immutable, fully loaded version of everything the engine reads."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from recsys.core.catalog import Catalog, fingerprint, load_workspace_catalog
from recsys.core.histories import Histories
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from serving.engine.items import ItemTable
from serving.engine.models import RunModels, load_run_models
from serving.engine.spaces import index_version, with_published_index
from serving.engine.vectors import ModalityVectors, load_modalities
from serving.engine.warm import mapped_files, read_ahead

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """Catalog arrays, models and vectors of one published run; never mutated after load."""

    run: Run
    catalog: Catalog
    items: ItemTable
    histories: Histories
    models: RunModels
    modalities: dict[str, ModalityVectors]
    # fused (else text) item embeddings, searched with the run's published FAISS index
    content_space: ModalityVectors | None
    index_version: str
    load_seconds: float
    # digest of the catalog files loaded (None when they changed while loading): answers
    # precomputed from other data are not served (``serving.answers``)
    catalog_fingerprint: str | None
    extra: dict = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        return self.run.path

    @property
    def model_version(self) -> str:
        return self.models.version


def load_snapshot(
    ws: Workspace, run: Run | None = None, previous: Snapshot | None = None
) -> Snapshot:
    """Load catalog, models of ``run`` (default: the served run) and item vectors.

    ``previous`` (the snapshot being replaced) lets unchanged vector tables be reused.

    Raises:
        FileNotFoundError: nothing trained yet, or the run lacks its popularity model.
    """
    start = time.perf_counter()
    run = run or Run.served(ws.artifacts_dir)
    before = _fingerprint(ws.data_dir)
    catalog = load_workspace_catalog(ws)
    after = _fingerprint(ws.data_dir)  # the same on both sides: these are the files loaded
    items = ItemTable.from_catalog(catalog)
    models = load_run_models(run, items.vocab)
    vector_cache = ws.cache_dir / "vectors"
    modalities = load_modalities(
        ws.lancedb_uri,
        items.vocab,
        previous.modalities if previous else None,
        previous.items.vocab if previous else None,
        cache_dir=vector_cache,
    )
    content_space = modalities.get("fused") or modalities.get("text")
    content_space = with_published_index(run, content_space, items.vocab)
    snap = Snapshot(
        run=run,
        catalog=catalog,
        items=items,
        histories=Histories.from_interactions(catalog.interactions, items.vocab),
        models=models,
        modalities=modalities,
        content_space=content_space,
        index_version=index_version(run, content_space),
        load_seconds=time.perf_counter() - start,
        catalog_fingerprint=after if before == after else None,
    )
    ahead = read_ahead(mapped_files([run.path, vector_cache]))
    log.info(
        "loaded run %s: %d items, modalities %s, in %.1fs; reading %.0f MB of mapped files ahead",
        run.name,
        len(items),
        sorted(modalities),
        snap.load_seconds,
        ahead / 1e6,
    )
    return snap


def _fingerprint(folder: Path) -> str | None:
    try:
        return fingerprint(folder)
    except FileNotFoundError:  # replaced while hashed: the caller sees two different digests
        return None
