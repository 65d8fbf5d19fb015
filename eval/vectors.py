"""Item vectors per modality from the LanceDB feature store, aligned to a catalog vocabulary.

Tables are read with ``FeatureStore.vectors`` (newest encoder version, newest row per id).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recsys.core.interactions import IdVocab

MODALITY_TABLES: dict[str, str] = {
    "text": "item_text",
    "image": "item_image",
    "video": "item_video",
    "ratings": "item_ratings",
    "fused": "item_fused",
}


def available_tables(uri: str) -> list[str]:
    """Table names in the store at ``uri`` (empty when the store does not exist yet)."""
    import lancedb  # heavy: lazy

    if "://" not in uri and not Path(uri).exists():
        return []  # connecting would create an empty store directory as a side effect
    try:
        return list(lancedb.connect(uri).list_tables().tables)
    except (FileNotFoundError, ValueError, OSError):
        return []


def load_table_vectors(
    uri: str, modality: str, item_vocab: IdVocab
) -> tuple[np.ndarray, np.ndarray]:
    """(n_items, d) float32 vectors in vocab order and a (n_items,) bool mask of items present.

    Rows for ids outside the catalog are ignored; catalog items without a row get zeros.
    """
    from features.store import FeatureStore  # lancedb: heavy, lazy

    ids, vectors = FeatureStore(uri).vectors("item", modality)  # newest row per id
    if len(ids) == 0:
        return np.zeros((len(item_vocab), 1), np.float32), np.zeros(len(item_vocab), bool)
    idx = item_vocab.index(ids)
    keep = idx >= 0
    out = np.zeros((len(item_vocab), vectors.shape[1]), np.float32)
    out[idx[keep]] = vectors[keep]
    present = np.zeros(len(item_vocab), bool)
    present[idx[keep]] = True
    return out, present


def load_modalities(uri: str, item_vocab: IdVocab) -> tuple[dict[str, np.ndarray], list[str]]:
    """Vectors of every modality table that exists, plus notes on the ones skipped."""
    tables = set(available_tables(uri))
    found, notes = {}, []
    for modality, table in MODALITY_TABLES.items():
        if table not in tables:
            notes.append(f"modality {modality!r} skipped: no table {table!r} in {uri}")
            continue
        try:
            vectors, present = load_table_vectors(uri, modality, item_vocab)
        except (KeyError, ValueError, OSError) as e:
            notes.append(f"modality {modality!r} skipped: {type(e).__name__}: {e}")
            continue
        if not present.any():
            notes.append(f"modality {modality!r} skipped: table {table!r} has no catalog items")
            continue
        found[modality] = vectors
    return found, notes
