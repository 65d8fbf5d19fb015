"""Candidate sources over plain arrays: vector ANN, any scorer, item-item, fixed orders.

Sources take arrays, never models: index sits below recsys.models, so whoever loads a run
(higher up) hands each source the arrays it needs, e.g. ``ItemItemSource(knn.item_vocab.ids,
knn.similarity)``, or wraps any model's scoring in a `ScoreSource`. Per request a source
works on what it proposes (an index search, a sparse row sum, a walk down a fixed order),
never on every catalog item.
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
from index.candidates.sparse import row_sums
from index.interface import Index
from recsys.core.interactions import IdVocab

# history positions (h,) int64 into a source's item_ids -> scores (n,) for those items
ScoreFn = Callable[[np.ndarray], np.ndarray]
# (ids (k,) the index found, query (D,)) -> their exact scores (k,) float32, -inf = "nothing"
ExactFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
# ids an index ranks just below the k-th are re-scored too: its SIMD kernels round
# differently from the exact scorer, so near-ties at the cut could otherwise swap
EXACT_MARGIN = 16
# A filter passing at most this share of an index's items (and at most FILTERED_EXACT_ROWS
# of them) is answered by exact scores over the passing rows, not by widening the ANN
# search: a genre + year filter at 100k items passes thousands, and an HNSW search asked for
# enough of them to survive the filter runs a beam of thousands (filtered requests p50
# 370 ms, max 2.1 s; with exact scoring up to half the catalog, p50 74 ms, max 118 ms;
# unfiltered ~20 ms). Above it the fetch starts at what the pass rate says is needed.
FILTERED_EXACT_SHARE = 0.5
FILTERED_EXACT_ROWS = 20_000
FILTERED_BLOCK = 4_096  # rows reconstructed at a time (bounded temporaries)


@register_source
class AnnSource(CandidateSource):
    """Nearest items to the request's vector (``vectors[name]``, else ``vector``) in an index.

    Without a vector the mean of the history items' indexed vectors stands in for the user
    ("more like what you watched"); with neither, the source proposes nothing. ``exact``
    re-scores what the index found (ANN kinds approximate, and a caller's features may
    define the score another way, e.g. a sum of per-modality cosines); the result is then
    ordered by those scores, ties by id. Filters (``request.allowed``) are applied to what
    the index returns, widening the search until ``k`` pass or the catalog is exhausted.
    """

    kind = "ann"

    def __init__(self, index: Index, name: str | None = None, exact: ExactFn | None = None):
        super().__init__(name)
        self.index = index
        self.exact = exact

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        query = request.vector_for(self.name)
        if query is None:
            query = self._history_vector(request.history)
        if query is None or k < 1:
            return SourceResult.empty(self.name)
        q = np.asarray(query, np.float32).ravel()  # (D,)
        want = k + (EXACT_MARGIN if self.exact is not None else 0)
        fetch, total = want, self.index.count
        if request.allowed is not None:
            passing, share = self._passing(request)
            if passing is not None:
                return self._exact_over(passing, q, k)
            # fetch what should hold ``want`` passing items at the filter's pass rate (with
            # room for chance), instead of doubling from ``want`` through several searches
            fetch = int(np.ceil(want * 1.5 / max(share, 1e-9)))
        while True:
            found, scores = self.index.search(q[None], min(fetch, total), [request.exclude])
            ids, scores = found[0], scores[0]
            complete = bool((ids < 0).any()) or fetch >= total  # nothing more to find
            ids, scores = ids[ids >= 0], scores[ids >= 0]
            if self.exact is not None:
                scores = np.asarray(self.exact(ids, q), np.float32)
            keep = np.isfinite(scores) & request.allows(ids)
            if complete or keep.sum() >= want:
                break
            fetch *= 2  # filters hid too many of them: look further down
        ids, scores = ids[keep], scores[keep]
        if self.exact is not None:
            order = np.lexsort((ids, -scores))  # exact scores best first, ties by id
            ids, scores = ids[order], scores[order]
        return SourceResult(self.name, ids[:k], scores[:k])

    def _passing(self, request: CandidateRequest) -> tuple[np.ndarray | None, float]:
        """(the ids the filter lets through less the excluded, when few enough to score them
        all, else None; the share of the index's items it lets through)."""
        every = self.index.ids()  # sorted
        if request.allowed_ids is not None:  # the caller's passing ids: O(passing), not O(index)
            wanted = request.allowed_ids
            pos = np.minimum(np.searchsorted(every, wanted), max(len(every) - 1, 0))
            passing = wanted[every[pos] == wanted] if len(every) else wanted[:0]
        else:
            passing = every[request.allows(every)]
        share = len(passing) / max(len(every), 1)
        if len(passing) > min(FILTERED_EXACT_SHARE * len(every), FILTERED_EXACT_ROWS):
            return None, share
        return passing[~np.isin(passing, request.exclude)], share

    def _exact_over(self, ids: np.ndarray, q: np.ndarray, k: int) -> SourceResult:
        if self.exact is not None:
            scores = np.asarray(self.exact(ids, q), np.float32)
        else:  # the index's own vectors, its metric's "higher is better"
            blocks = [
                self._scores(self.index.reconstruct(ids[lo : lo + FILTERED_BLOCK]), q)
                for lo in range(0, len(ids), FILTERED_BLOCK)
            ]
            scores = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
        keep = np.isfinite(scores)
        ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))[:k]  # best first, ties by id
        return SourceResult(self.name, ids[order], scores[order])

    def _scores(self, vectors: np.ndarray, q: np.ndarray) -> np.ndarray:
        if self.index.metric == "l2":
            return -np.square(vectors - q[None, :]).sum(axis=1).astype(np.float32)
        return (vectors @ q).astype(np.float32)

    def _history_vector(self, history: np.ndarray) -> np.ndarray | None:
        known = history[IdVocab(self.index.ids()).index(history) >= 0]
        if not len(known):
            return None
        mean = self.index.reconstruct(known).mean(axis=0)  # (D,)
        norm = np.linalg.norm(mean)
        return mean / norm if norm > 0 else None


class _Positions:
    """Item ids in any order (a feature table's, not a vocabulary's) -> their positions."""

    def __init__(self, item_ids: np.ndarray, name: str):
        item_ids = np.asarray(item_ids, dtype=np.int64).ravel()
        self.item_ids = item_ids
        if (np.diff(item_ids) > 0).all():  # already a vocabulary (per-request sources): no sort
            self._order = np.arange(len(item_ids))
            self._vocab = IdVocab(item_ids)
            return
        if len(np.unique(item_ids)) != len(item_ids):
            raise ValueError(f"{name}: item_ids repeat an id; scores would be ambiguous")
        self._order = np.argsort(item_ids, kind="stable")
        self._vocab = IdVocab(item_ids[self._order])

    def positions(self, history: np.ndarray) -> np.ndarray:
        """Positions (h,) in ``item_ids`` of the known ``history`` ids, in history order."""
        found = self._vocab.index(np.asarray(history, dtype=np.int64).ravel())
        return self._order[found[found >= 0]]


@register_source
class ScoreSource(CandidateSource):
    """Any scorer as a source: the best-scored items of ``item_ids``.

    ``score_fn(history_positions)`` returns scores (n,) aligned with ``item_ids``, where
    ``history_positions`` are the positions in ``item_ids`` of the request's history items it
    knows, oldest first (unknown ids dropped, so possibly none). Items scored -inf (or NaN) are
    never proposed. This is how a model (EASE, a user tower, content similarity) becomes a
    source without index importing it: ``ScoreSource("ease", ids, lambda pos: ...)``; a
    caller with a few scored items (a sparse row sum) passes just those ids.
    """

    kind = "score"

    def __init__(self, name: str, item_ids: np.ndarray, score_fn: ScoreFn):
        super().__init__(name)
        self._lookup = _Positions(item_ids, name)
        self.item_ids = self._lookup.item_ids
        self.score_fn = score_fn

    def positions(self, history: np.ndarray) -> np.ndarray:
        return self._lookup.positions(history)

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        if k < 1:
            return SourceResult.empty(self.name)
        scores = np.asarray(self.score_fn(self.positions(request.history)), dtype=np.float32)
        if scores.shape != self.item_ids.shape:
            raise ValueError(
                f"{self.name}: score_fn gave shape {scores.shape} for {len(self.item_ids)} items"
            )
        allowed = request.allows(self.item_ids) if request.allowed is not None else None
        return top_ids(self.item_ids, scores, k, request.exclude, self.name, allowed)


@register_source
class ItemItemSource(CandidateSource):
    """Items that co-occur with the history: sum of the history items' similarity rows.

    ``similarity`` (n, n) is aligned with ``item_ids`` (row i = neighbours of item i), e.g. an
    item-kNN model's ``item_vocab.ids`` and ``similarity``. Only the columns the history's
    rows touch are summed (h x neighbours work).
    """

    kind = "itemknn"

    def __init__(self, item_ids: np.ndarray, similarity: sp.csr_matrix, name: str | None = None):
        super().__init__(name)
        self._lookup = _Positions(item_ids, self.name)
        n = len(self._lookup.item_ids)
        if similarity.shape != (n, n):
            raise ValueError(f"similarity {similarity.shape} does not match {n} item ids")
        self.similarity = sp.csr_matrix(similarity)

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        history = self._lookup.positions(request.history)
        if k < 1 or not len(history):
            return SourceResult.empty(self.name)
        cols, sums = row_sums(self.similarity, history)
        # only items that actually co-occur are candidates; zero similarity says nothing
        cols, sums = cols[sums > 0], sums[sums > 0]
        ids = self._lookup.item_ids[cols]
        allowed = request.allows(ids) if request.allowed is not None else None
        return top_ids(ids, sums, k, request.exclude, self.name, allowed)


@register_source
class RankedSource(CandidateSource):
    """A fixed best-first order (counts, a prior), sorted once; a request walks down it.

    ``scores`` (n,) are aligned with ``item_ids``; -inf/NaN items are never proposed, ties
    keep ``item_ids`` order. A request costs about ``k`` + its excluded ids, not n.
    """

    kind = "ranked"

    def __init__(self, item_ids: np.ndarray, scores: np.ndarray, name: str | None = None):
        super().__init__(name)
        item_ids = np.asarray(item_ids, dtype=np.int64).ravel()
        scores = np.asarray(scores, dtype=np.float32).ravel()
        if scores.shape != item_ids.shape:
            raise ValueError(f"{self.name}: {len(scores)} scores for {len(item_ids)} item ids")
        finite = np.flatnonzero(np.isfinite(scores))
        order = finite[np.argsort(-scores[finite], kind="stable")]
        self.ids, self.scores = item_ids[order], scores[order]  # best first

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        picked: list[np.ndarray] = []
        found, start, step = 0, 0, k + len(request.exclude)
        while k > 0 and found < k and start < len(self.ids):
            ids = self.ids[start : start + step]
            keep = ~np.isin(ids, request.exclude) & request.allows(ids)
            picked.append(start + np.flatnonzero(keep))
            found += int(keep.sum())
            start, step = start + len(ids), 2 * step  # filtered out too many: walk further
        if not found:
            return SourceResult.empty(self.name)
        pos = np.concatenate(picked)[:k]
        return SourceResult(self.name, self.ids[pos], self.scores[pos])


@register_source
class PopularitySource(RankedSource):
    """Most-liked items overall: the fallback that always has something to say.

    Pass ``log1p(counts)`` (what a popularity model scores) to stay on the scale the ranker
    uses; a zero count is still a candidate.
    """

    kind = "popularity"

    def __init__(self, item_ids: np.ndarray, scores: np.ndarray, name: str | None = None):
        super().__init__(item_ids, scores, name)
