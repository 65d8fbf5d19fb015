"""Item vectors per modality from the LanceDB feature store, aligned to a catalog vocabulary.

``features.store.FeatureStore`` is used when importable (it resolves several encoder versions to
the latest row per id); otherwise the table is read with lancedb directly (columns ``id``,
``vector``, last row per id wins).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recsys.interactions import IdVocab

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
        return list(lancedb.connect(uri).table_names(limit=10_000))
    except (FileNotFoundError, ValueError, OSError):
        return []


def _read_ids_vectors(uri: str, modality: str, table: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        from features.store import FeatureStore
    except ImportError:
        FeatureStore = None  # noqa: N806
    if FeatureStore is not None:
        return FeatureStore(uri).vectors("item", modality)
    import lancedb

    tbl = lancedb.connect(uri).open_table(table).to_arrow()
    if "id" not in tbl.column_names or "vector" not in tbl.column_names:
        raise KeyError(f"table {table!r} needs columns id and vector, has {tbl.column_names}")
    ids = np.asarray(tbl.column("id").to_numpy(), dtype=np.int64)
    vectors = np.asarray(tbl.column("vector").to_pylist(), dtype=np.float32)  # (rows, d)
    return ids, vectors


def load_table_vectors(
    uri: str, modality: str, item_vocab: IdVocab
) -> tuple[np.ndarray, np.ndarray]:
    """(n_items, d) float32 vectors in vocab order and a (n_items,) bool mask of items present.

    Rows for ids outside the catalog are ignored; catalog items without a row get zeros.
    """
    ids, vectors = _read_ids_vectors(uri, modality, MODALITY_TABLES[modality])
    if len(ids) == 0:
        return np.zeros((len(item_vocab), 1), np.float32), np.zeros(len(item_vocab), bool)
    idx = item_vocab.index(ids)
    keep = idx >= 0
    out = np.zeros((len(item_vocab), vectors.shape[1]), np.float32)
    out[idx[keep]] = vectors[keep]  # later rows win on duplicate ids
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
