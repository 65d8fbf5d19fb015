"""Online feature lookups: an in-memory snapshot of the newest vectors per (entity, modality).

LanceDB answers a filtered query in milliseconds, fine for batch jobs but too slow for a request
path that looks up a user's history on every call. Like the online store of Feast, the serving
side reads each table once into contiguous arrays and answers ``get`` with a binary search; it is
refreshed explicitly (the API rebuilds it on hot reload), never silently mid-request.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from features.store.store import FeatureStore, Lookup


class OnlineFeatures:
    """Read-only snapshot of ``store.vectors(entity, m)`` for the chosen modalities."""

    def __init__(self, store: FeatureStore, entity: str, modalities: Iterable[str]):
        self.store = store
        self.entity = entity
        self.modalities = [m for m in modalities if store.has(entity, m)]
        self._tables: dict[str, Lookup] = {}
        self.refresh()

    def refresh(self) -> None:
        """Re-read the newest vectors; the swap is one assignment, so readers never see a mix."""
        self._tables = {m: self.store.vectors(self.entity, m) for m in self.modalities}

    def get(self, ids: Iterable[int], modalities: Iterable[str] | None = None) -> dict[str, Lookup]:
        """Same contract as ``FeatureStore.get``: ids without a vector are absent."""
        wanted = np.unique(np.fromiter((int(i) for i in ids), dtype=np.int64))
        tables = self._tables
        out: dict[str, Lookup] = {}
        for modality in modalities or self.modalities:
            if modality not in tables:
                out[modality] = (np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
                continue
            known, vectors = tables[modality]
            pos = np.clip(np.searchsorted(known, wanted), 0, max(len(known) - 1, 0))
            hit = known[pos] == wanted if len(known) else np.zeros(len(wanted), bool)
            out[modality] = (wanted[hit], vectors[pos[hit]])
        return out
