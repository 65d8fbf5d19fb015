"""Find the item vectors to index for a run: ranker item tower > fused features > item text."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recsys.config import Workspace

HYBRID_VECTORS = Path("models") / "hybrid" / "item_vectors.npz"
TEXT_TABLE = "item_text"


@dataclass
class ItemVectors:
    """Vectors to index plus where they came from (written into the index manifest)."""

    ids: np.ndarray  # (N,) int64
    vectors: np.ndarray  # (N, D) float32
    source: str  # "hybrid" | "fused" | "item_text"
    lineage: dict[str, Any] = field(default_factory=dict)


def load_item_vectors(ws: Workspace, run: Path) -> ItemVectors:
    """The best vectors available, in order of preference.

    1. the hybrid ranker's item tower (``<run>/models/hybrid/item_vectors.npz``): searching
       it with the user tower's output ranks exactly like the ranker;
    2. the feature store's fused item vectors (all modalities);
    3. the ``item_text`` table (text embeddings only).

    Raises:
        FileNotFoundError: none of them exists yet.
    """
    for loader in (_hybrid, _fused, _item_text):
        found = loader(ws, run)
        if found is not None and len(found.ids):
            return found
    raise FileNotFoundError(
        f"no item vectors to index: no {run / HYBRID_VECTORS}, no fused or {TEXT_TABLE!r} table "
        f"in {ws.lancedb_uri}; run `recsys embed` first"
    )


def _hybrid(ws: Workspace, run: Path) -> ItemVectors | None:
    path = run / HYBRID_VECTORS
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        ids, vectors = data["item_ids"], data["vectors"]
    return ItemVectors(ids, vectors, "hybrid", {"path": str(path), "run": run.name})


def _fused(ws: Workspace, run: Path) -> ItemVectors | None:
    try:
        from features.store import FeatureStore
    except ImportError:  # the feature store is optional for indexing: text alone will do
        return None
    try:
        store = FeatureStore(ws.lancedb_uri)
        if not store.has("item", "fused"):
            return None
        version = store.latest_encoder_version("item", "fused")
        ids, vectors = store.vectors("item", "fused", version)
    except (KeyError, FileNotFoundError):
        return None
    lineage = {"uri": ws.lancedb_uri, "table": "item_fused", "encoder_version": version}
    return ItemVectors(ids, vectors, "fused", lineage)


def _item_text(ws: Workspace, run: Path) -> ItemVectors | None:
    import lancedb  # heavy; only when indexing from the store
    import polars as pl

    db = lancedb.connect(ws.lancedb_uri)
    if TEXT_TABLE not in db.list_tables().tables:
        return None
    table = db.open_table(TEXT_TABLE)
    df = pl.from_arrow(table.to_arrow())
    lineage: dict[str, Any] = {"uri": ws.lancedb_uri, "table": TEXT_TABLE}
    lineage["table_version"] = int(table.version)
    if "encoder_version" in df.columns and len(df):
        # rows are append-only: index the newest encoder version, newest row per id
        newest = df.sort("created_at")["encoder_version"][-1] if "created_at" in df else None
        if newest is not None:
            df = df.filter(pl.col("encoder_version") == newest)
            lineage["encoder_version"] = newest
    if "created_at" in df.columns:
        df = df.sort("created_at")
    df = df.unique("id", keep="last", maintain_order=True).sort("id")
    ids = df["id"].to_numpy().astype(np.int64)
    vectors = np.asarray(df["vector"].to_list(), dtype=np.float32).reshape(len(ids), -1)
    return ItemVectors(ids, vectors, TEXT_TABLE, lineage)
