"""Content vectors the hybrid ranker trains on, read through ``FeatureStore.aligned``.

Items: the fused table (``item_fused``) when it exists, else the text table (``item_text``);
users: the viewing-history text table (``user_history_text``). Items or users without a vector
get zeros and ``mask=False``, which the model treats as "no content".
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import numpy as np

from features.store import FeatureStore
from recsys.core.interactions import IdVocab
from recsys.core.workspace import Workspace
from recsys.ranking import ContentSpace

log = logging.getLogger(__name__)

ITEM_SOURCES = ("fused", "text")  # preference order
# What the ranking pipeline reads: content from the item itself. Not "ratings" (fitted on
# every interaction, so it would carry the label chunk and test into the features) and not
# "fused" (which includes ratings); collaborative signal comes from the stage-1 models.
PIPELINE_MODALITIES = ("text", "image", "video", "review_text")


def _store(ws: Workspace) -> FeatureStore | None:
    return FeatureStore(ws.lancedb_uri) if FeatureStore.exists(ws.lancedb_uri) else None


def load_item_content(
    ws: Workspace, item_ids: np.ndarray, lineage: dict[str, Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(content (n_items, D) float32 aligned with ``item_ids``, mask (n_items,) bool).

    With no item table at all, returns (n_items, 1) zeros and an all-False mask, so the model
    is purely collaborative (and says so in ``lineage``).
    """
    store = _store(ws)
    item_ids = np.asarray(item_ids, np.int64)
    vocab = IdVocab.from_ids(item_ids)
    order = vocab.index(item_ids)  # rows of the sorted vocabulary, in the caller's order
    for modality in ITEM_SOURCES if store is not None else ():
        found = store.aligned("item", modality, vocab)  # type: ignore[union-attr]
        if found is not None and found.present.any():
            if lineage is not None:
                lineage[found.table] = found.lineage()
                lineage["item_content"] = found.table
            log.info("item content from %s: %d/%d items", found.table, found.present.sum(),
                     len(vocab))  # fmt: skip
            return found.matrix[order], found.present[order]
    log.warning("no item content table in %s: the hybrid ranker is ID-only", ws.lancedb_uri)
    if lineage is not None:
        lineage["item_content"] = None
    return np.zeros((len(item_ids), 1), np.float32), np.zeros(len(item_ids), bool)


def load_user_text(
    ws: Workspace, lineage: dict[str, Any] | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(user_ids, vectors) of the viewing-history text table, or None when absent."""
    store = _store(ws)
    if store is None or not store.has("user", "history_text"):
        return None
    ids, vectors = store.vectors("user", "history_text")
    if lineage is not None:
        lineage["user_history_text"] = {"rows": len(ids)}
    return (ids, vectors) if len(ids) else None


def load_pipeline_content(
    ws: Workspace, vocab: IdVocab, as_of: datetime | None = None
) -> dict[str, ContentSpace]:
    """Per-modality item vectors aligned with ``vocab``, as known at ``as_of`` (None: now)."""
    store = _store(ws)
    out: dict[str, ContentSpace] = {}
    for modality in PIPELINE_MODALITIES if store is not None else ():
        if not store.has("item", modality):  # type: ignore[union-attr]
            continue
        found = _aligned(store, modality, vocab, as_of)
        if found is not None and found.present.any():
            out[modality] = ContentSpace.from_vectors(found.matrix, found.present)
            log.info("pipeline content %s: %d/%d items", modality, found.present.sum(), len(vocab))
    return out


def _aligned(store, modality: str, vocab: IdVocab, as_of: datetime | None):
    if as_of is None:
        return store.aligned("item", modality, vocab)
    return store.aligned("item", modality, vocab, as_of=as_of)
