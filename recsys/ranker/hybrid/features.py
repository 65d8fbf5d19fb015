"""The one place the hybrid ranker reads content vectors from the feature store.

Items: the fused table (``item_fused``) when it exists, else the text table (``item_text``);
users: the viewing-history text table (``user_history_text``). Items or users without a vector
get zeros and ``mask=False``, which the model treats as "no content".
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from recsys.config import Workspace

log = logging.getLogger(__name__)

ITEM_SOURCES = (("item", "fused"), ("item", "text"))


def _read(ws: Workspace, entity: str, modality: str, lineage: dict[str, Any] | None):
    """(ids, vectors) of one table, or None when it does not exist."""
    name = f"{entity}_{modality}"
    if "://" not in ws.lancedb_uri and not Path(ws.lancedb_uri).exists():
        return None  # no store yet (`recsys embed` not run): do not create one by reading
    try:
        from features.store import FeatureStore
    except ImportError:  # feature store package absent: read the LanceDB table directly
        return _read_lancedb(ws, name, lineage)
    store = FeatureStore(ws.lancedb_uri)
    if not store.has(entity, modality):
        return None
    version = store.latest_encoder_version(entity, modality)
    ids, vectors = store.vectors(entity, modality, version)
    if lineage is not None:
        table = store.db.open_table(name)
        lineage[name] = {"encoder_version": version, "table_version": int(table.version),
                         "rows": len(ids)}  # fmt: skip
    return ids, vectors


def _read_lancedb(ws: Workspace, name: str, lineage: dict[str, Any] | None):
    import lancedb

    db = lancedb.connect(ws.lancedb_uri)
    if name not in db.list_tables().tables:
        return None
    table = db.open_table(name)
    data = table.to_arrow().select(["id", "vector"])
    ids = data["id"].to_numpy().astype(np.int64)
    vectors = np.asarray(data["vector"].to_pylist(), np.float32)
    if lineage is not None:
        lineage[name] = {"table_version": int(table.version), "rows": len(ids)}
    # append-only tables: the last row of an id is its newest vector
    last = len(ids) - 1 - np.unique(ids[::-1], return_index=True)[1]
    return ids[last], vectors[last]


def _align(ids: np.ndarray, vectors: np.ndarray, wanted: np.ndarray):
    wanted = np.asarray(wanted, np.int64)
    out = np.zeros((len(wanted), vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
    order = np.argsort(ids)
    pos = np.searchsorted(ids[order], wanted).clip(0, max(len(ids) - 1, 0))
    mask = (ids[order][pos] == wanted) if len(ids) else np.zeros(len(wanted), bool)
    out[mask] = vectors[order][pos[mask]]
    return out, mask


def load_item_content(
    ws: Workspace, item_ids: np.ndarray, lineage: dict[str, Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(content (n_items, D) float32 aligned with ``item_ids``, mask (n_items,) bool).

    With no item table at all, returns (n_items, 1) zeros and an all-False mask, so the model
    is purely collaborative (and says so in ``lineage``).
    """
    for entity, modality in ITEM_SOURCES:
        found = _read(ws, entity, modality, lineage)
        if found is not None and len(found[0]):
            content, mask = _align(*found, item_ids)
            if lineage is not None:
                lineage["item_content"] = f"{entity}_{modality}"
            log.info("item content from %s_%s: %d/%d items", entity, modality, mask.sum(),
                     len(mask))  # fmt: skip
            return content, mask
    log.warning("no item content table in %s: the hybrid ranker is ID-only", ws.lancedb_uri)
    if lineage is not None:
        lineage["item_content"] = None
    return np.zeros((len(item_ids), 1), np.float32), np.zeros(len(item_ids), bool)


def load_user_text(
    ws: Workspace, lineage: dict[str, Any] | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(user_ids, vectors) of the viewing-history text table, or None when absent."""
    found = _read(ws, "user", "history_text", lineage)
    return found if found is not None and len(found[0]) else None
