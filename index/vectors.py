"""Find the item vectors to index for a run: ranker item tower > fused features > item text."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys.config import Workspace

if TYPE_CHECKING:
    import pyarrow as pa

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
    return _store_table(ws, "item_fused", "fused")


def _item_text(ws: Workspace, run: Path) -> ItemVectors | None:
    return _store_table(ws, TEXT_TABLE, TEXT_TABLE)


def _store_table(ws: Workspace, table: str, source: str) -> ItemVectors | None:
    import lancedb  # heavy; only when indexing from the store

    db = lancedb.connect(ws.lancedb_uri)
    if table not in db.list_tables().tables:
        return None
    handle = db.open_table(table)
    ids, vectors, encoder_version = newest_vectors(handle.to_arrow())
    lineage: dict[str, Any] = {"uri": ws.lancedb_uri, "table": table}
    lineage["table_version"] = int(handle.version)
    if encoder_version is not None:
        lineage["encoder_version"] = encoder_version
    return ItemVectors(ids, vectors, source, lineage)


def newest_vectors(arrow: pa.Table) -> tuple[np.ndarray, np.ndarray, str | None]:
    """(ids (n,) int64, vectors (n, d) float32, encoder version) of a vector table, by id.

    Feature-store tables are append-only with lineage columns: the newest encoder version is
    read, newest row per id (what ``FeatureStore.vectors`` returns). Plain ``id``/``vector``
    tables (benchmarks, hand-written stores) keep the last row per id. Rows are picked on a
    small (id, version, time) frame and taken from Arrow, so vectors are copied once.
    """
    import polars as pl

    from features.store.store import latest_per_id

    if arrow.num_rows == 0:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), None
    newest = None
    if {"encoder_version", "created_at"} <= set(arrow.column_names):
        meta = pl.from_arrow(arrow.select(["id", "encoder_version", "created_at"]))
        meta = meta.with_row_index()
        newest = str(meta.sort("created_at")["encoder_version"][-1])
        keep = latest_per_id(meta.filter(pl.col("encoder_version") == newest))
    else:
        meta = pl.from_arrow(arrow.select(["id"])).with_row_index()
        keep = meta.unique("id", keep="last", maintain_order=True).sort("id")
    rows = arrow.select(["id", "vector"]).take(keep["index"].to_numpy())
    ids = rows.column("id").to_numpy().astype(np.int64)
    flat = rows.column("vector").combine_chunks().flatten()  # flatten honours list offsets
    vectors = flat.to_numpy(zero_copy_only=False).astype(np.float32).reshape(len(ids), -1)
    return ids, vectors, newest
