"""Candidate sources over plain arrays: vector ANN, any dense scorer, item-item, popularity.

Sources take arrays, never models: index sits below recsys.models, so whoever loads a run
(higher up) hands each source the arrays it needs, e.g. ``ItemItemSource(knn.item_vocab.ids,
knn.similarity)``, or wraps any model's scoring in a `ScoreSource`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from index.candidates.base import (
    CandidateRequest,
    CandidateSource,
    SourceResult,
    register_source,
    top_ids,
)
from index.interface import Index
from recsys.core.interactions import IdVocab

# history positions (h,) int64 into a source's item_ids -> dense scores (n,) for those items
ScoreFn = Callable[[np.ndarray], np.ndarray]


@register_source
class AnnSource(CandidateSource):
    """Nearest items to the user/query vector in the FAISS index.

    Without a vector the mean of the history items' indexed vectors stands in for the user
    ("more like what you watched"); with neither, the source proposes nothing.
    """

    kind = "ann"

    def __init__(self, index: Index, name: str | None = None):
        super().__init__(name)
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
        known = history[IdVocab(self.index.ids()).index(history) >= 0]
        if not len(known):
            return None
        mean = self.index.reconstruct(known).mean(axis=0)  # (D,)
        norm = np.linalg.norm(mean)
        return mean / norm if norm > 0 else None


@register_source
class ScoreSource(CandidateSource):
    """Any dense scorer as a source: the best-scored items of ``item_ids``.

    ``score_fn(history_positions)`` returns scores (n,) aligned with ``item_ids``, where
    ``history_positions`` are the positions in ``item_ids`` of the request's history items it
    knows, oldest first (unknown ids dropped, so possibly none). Items scored -inf (or NaN) are
    never proposed. This is how a model (EASE, a user tower, content similarity) becomes a
    source without index importing it: ``ScoreSource("ease", ids, lambda pos: ...)``.
    """

    kind = "score"

    def __init__(self, name: str, item_ids: np.ndarray, score_fn: ScoreFn):
        super().__init__(name)
        item_ids = np.asarray(item_ids, dtype=np.int64).ravel()
        if len(np.unique(item_ids)) != len(item_ids):
            raise ValueError(f"{name}: item_ids repeat an id; scores would be ambiguous")
        self.item_ids = item_ids
        self.score_fn = score_fn
        # item_ids may come in any order (a feature table's, not a vocabulary's): look ids up
        # in a sorted vocabulary and map its positions back to the caller's order
        self._order = np.argsort(item_ids, kind="stable")
        self._vocab = IdVocab(item_ids[self._order])

    def positions(self, history: np.ndarray) -> np.ndarray:
        """Positions (h,) in ``item_ids`` of the known ``history`` ids, in history order."""
        found = self._vocab.index(np.asarray(history, dtype=np.int64).ravel())
        return self._order[found[found >= 0]]

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        if k < 1:
            return SourceResult.empty(self.name)
        scores = np.asarray(self.score_fn(self.positions(request.history)), dtype=np.float32)
        if scores.shape != self.item_ids.shape:
            raise ValueError(
                f"{self.name}: score_fn gave shape {scores.shape} for {len(self.item_ids)} items"
            )
        return top_ids(self.item_ids, scores, k, request.exclude, self.name)


@register_source
class ItemItemSource(ScoreSource):
    """Items that co-occur with the history: sum of the history items' similarity rows.

    ``similarity`` (n, n) is aligned with ``item_ids`` (row i = neighbours of item i), e.g. an
    item-kNN model's ``item_vocab.ids`` and ``similarity``.
    """

    kind = "itemknn"

    def __init__(self, item_ids: np.ndarray, similarity: sp.csr_matrix, name: str | None = None):
        n = len(np.asarray(item_ids).ravel())
        if similarity.shape != (n, n):
            raise ValueError(f"similarity {similarity.shape} does not match {n} item ids")
        self.similarity = sp.csr_matrix(similarity)
        super().__init__(name or self.kind, item_ids, self._co_occurrence)

    def _co_occurrence(self, history: np.ndarray) -> np.ndarray:
        if not len(history):
            return np.full(len(self.item_ids), -np.inf, dtype=np.float32)
        summed = np.asarray(self.similarity[history].sum(axis=0)).ravel()  # (n_items,)
        # only items that actually co-occur are candidates; zero similarity says nothing
        return np.where(summed > 0, summed, -np.inf)


@register_source
class PopularitySource(ScoreSource):
    """Most-liked items overall: the fallback that always has something to say.

    ``scores`` (n,) are aligned with ``item_ids``; pass ``log1p(counts)`` (what a popularity
    model scores) to stay on the scale the ranker uses.
    """

    kind = "popularity"

    def __init__(self, item_ids: np.ndarray, scores: np.ndarray, name: str | None = None):
        self.scores = np.asarray(scores, dtype=np.float32).ravel()
        super().__init__(name or self.kind, item_ids, lambda _history: self.scores)
