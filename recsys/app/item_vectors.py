"""The item vectors a run is indexed with: ranker item tower > fused features > item text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from features.store import FeatureStore
from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from recsys.core.workspace import Workspace

HYBRID = "hybrid"
HYBRID_VECTORS = "item_vectors.npz"
STORE_SOURCES = (("fused", "fused"), ("text", "item_text"))  # (modality, source name)


@dataclass
class ItemVectors:
    """Vectors to index plus where they came from (written into the index manifest)."""

    ids: np.ndarray  # (N,) int64
    vectors: np.ndarray  # (N, D) float32
    source: str  # "hybrid" | "fused" | "item_text"
    lineage: dict[str, Any] = field(default_factory=dict)


def load_item_vectors(ws: Workspace, run: Run) -> ItemVectors:
    """The best vectors available, in order of preference.

    1. the hybrid ranker's item tower (``models/hybrid/item_vectors.npz``): searching it with
       the user tower's output ranks exactly like the ranker;
    2. the feature store's fused item vectors (all modalities);
    3. the ``item_text`` table (text embeddings only).

    Raises:
        FileNotFoundError: none of them exists yet.
    """
    path = run.model_dir(HYBRID) / HYBRID_VECTORS
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            ids, vectors = data["item_ids"], data["vectors"]
        if len(ids):
            return ItemVectors(ids, vectors, HYBRID, {"path": str(path), "run": run.name})
    if FeatureStore.exists(ws.lancedb_uri):
        store = FeatureStore(ws.lancedb_uri)
        for modality, source in STORE_SOURCES:
            if not store.has("item", modality):
                continue
            # every item the table holds (the catalog may have grown or shrunk since)
            vocab = IdVocab(store.vectors("item", modality)[0])
            found = store.aligned("item", modality, vocab)
            if found is not None and found.present.any():
                rows = np.flatnonzero(found.present)
                lineage = {"uri": ws.lancedb_uri, **found.lineage()}
                return ItemVectors(vocab.ids[rows], found.matrix[rows], source, lineage)
    raise FileNotFoundError(
        f"no item vectors to index: no {path}, no fused or item_text table in "
        f"{ws.lancedb_uri}; run `recsys embed` first"
    )
