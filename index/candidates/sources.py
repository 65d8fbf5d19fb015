"""The three candidate sources: vector ANN, item-item co-occurrence, popularity."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from index.base import Index
from index.candidates.base import (
    CandidateRequest,
    CandidateSource,
    SourceResult,
    register_source,
    top_ids,
)

if TYPE_CHECKING:
    from recsys.models.itemknn import ItemKNN
    from recsys.models.popularity import Popularity


@register_source
class AnnSource(CandidateSource):
    """Nearest items to the user/query vector in the FAISS index.

    Without a vector the mean of the history items' indexed vectors stands in for the user
    ("more like what you watched"); with neither, the source proposes nothing.
    """

    name: ClassVar[str] = "ann"

    def __init__(self, index: Index):
        self.index = index

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        query = request.vector
        if query is None:
            query = self._history_vector(request.history)
        if query is None or k < 1:
            return SourceResult.empty(self.name)
        ids, scores = self.index.search(np.asarray(query, np.float32)[None], k, [request.exclude])
        keep = ids[0] >= 0
        return SourceResult(self.name, ids[0][keep], scores[0][keep])

    def _history_vector(self, history: np.ndarray) -> np.ndarray | None:
        indexed = self.index.ids()  # sorted
        pos = np.searchsorted(indexed, history).clip(0, max(len(indexed) - 1, 0))
        known = history[indexed[pos] == history] if len(indexed) else history[:0]
        if not len(known):
            return None
        mean = self.index.reconstruct(known).mean(axis=0)  # (D,)
        norm = np.linalg.norm(mean)
        return mean / norm if norm > 0 else None


@register_source
class ItemItemSource(CandidateSource):
    """Items that co-occur with the history: sum of the history items' similarity rows."""

    name: ClassVar[str] = "itemknn"

    def __init__(self, model: ItemKNN):
        self.model = model

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        idx = self.model.item_vocab.index(request.history)
        idx = idx[idx >= 0]
        if not len(idx):
            return SourceResult.empty(self.name)
        summed = np.asarray(self.model.similarity[idx].sum(axis=0)).ravel()  # (n_items,)
        # only items that actually co-occur are candidates; zero similarity says nothing
        scores = np.where(summed > 0, summed, -np.inf)
        return top_ids(self.model.item_vocab.ids, scores, k, request.exclude, self.name)


@register_source
class PopularitySource(CandidateSource):
    """Most-liked items overall: the fallback that always has something to say."""

    name: ClassVar[str] = "popularity"

    def __init__(self, model: Popularity):
        self.model = model

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        scores = np.log1p(self.model.counts)  # (n_items,) same scale the ranker uses
        return top_ids(self.model.item_vocab.ids, scores, k, request.exclude, self.name)
