"""Item vectors per modality from the feature store, aligned to a catalog vocabulary.

Every table is read with ``FeatureStore.aligned`` (newest encoder version, the row choice every
reader shares): evaluation sees the rows that training, indexing and serving see, except that
with ``as_of`` only rows whose dated inputs (user tags, reviews) existed at the cut-off count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from features.store import ITEM_MODALITIES, FeatureStore, table_name
from recsys.core.interactions import IdVocab


def load_modalities(
    uri: str,
    item_vocab: IdVocab,
    modalities: Sequence[str] = ITEM_MODALITIES,
    as_of: datetime | None = None,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """(n_items, d) float32 vectors in vocab order of every modality whose table exists and
    holds catalog items (zeros for items without a row), plus notes on the ones skipped.

    ``as_of``: the event-time cut-off (``FeatureStore.aligned``); None reads "now"."""
    if not FeatureStore.exists(uri):  # opening it would create an empty store directory
        return {}, [f"modality {m!r} skipped: no feature store at {uri}" for m in modalities]
    store = FeatureStore(uri)
    found: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for modality in modalities:
        table = table_name("item", modality)
        aligned = store.aligned("item", modality, item_vocab, as_of=as_of)
        if aligned is None:
            notes.append(f"modality {modality!r} skipped: no table {table!r} in {uri}")
        elif not aligned.present.any():
            notes.append(f"modality {modality!r} skipped: table {table!r} has no catalog items")
        else:
            found[modality] = aligned.matrix
    return found, notes
