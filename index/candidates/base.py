"""The `CandidateSource` interface, its request/result types and the kind -> class registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from recsys.core.registry import Registry


def _ids(values) -> np.ndarray:
    return np.asarray(values if values is not None else [], dtype=np.int64).ravel()


# item ids (k,) -> (k,) bool: which of them a request's filters let through
AllowFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class CandidateRequest:
    """What one user (or anonymous session) asks candidates for.

    Attributes:
        history: item ids the user interacted with, oldest first.
        exclude: item ids never to return (typically the seen items).
        vector: user or query embedding in the index's space (D,); None lets the ANN source
            fall back to the mean of the history items' vectors.
        vectors: per source name, that source's own query vector (a request lives in several
            spaces at once: content modalities, collaborative factors…); overrides ``vector``.
        allowed: filters (genre, year…) as a predicate over item ids, asked only about the
            ids a source is about to propose, so a filter costs nothing per catalog item;
            None = everything allowed.
        allowed_ids: the ids ``allowed`` lets through, sorted, when the caller holds them
            anyway (a filter mask over its catalog, turned into ids once per request): an ANN
            source then scores a selective filter's items exactly without asking ``allowed``
            about its whole index.
    """

    history: np.ndarray = field(default_factory=lambda: _ids(None))
    exclude: np.ndarray = field(default_factory=lambda: _ids(None))
    vector: np.ndarray | None = None
    vectors: Mapping[str, np.ndarray] = field(default_factory=dict)
    allowed: AllowFn | None = None
    allowed_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "history", _ids(self.history))
        object.__setattr__(self, "exclude", _ids(self.exclude))

    def allows(self, ids: np.ndarray) -> np.ndarray:
        """(k,) bool: which of ``ids`` pass the filters (exclusions are not applied here)."""
        if self.allowed is None:
            return np.ones(len(ids), bool)
        return np.asarray(self.allowed(ids), bool)

    def vector_for(self, source: str) -> np.ndarray | None:
        return self.vectors.get(source, self.vector)


@dataclass(frozen=True)
class SourceResult:
    """One source's proposals, best first: ``ids`` (n,) int64 and ``scores`` (n,) float32."""

    source: str
    ids: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls, source: str) -> SourceResult:
        return cls(source, _ids(None), np.zeros(0, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Candidate:
    """A merged candidate: its best score and every source that proposed it.

    Scores of different sources live on different scales (cosine, co-occurrence sums, log
    counts); ``score`` is the best one for ordering ties only, the ranker re-scores anyway.
    ``sources`` is what serving uses to explain a recommendation ("similar to ...").
    """

    item_id: int
    score: float
    sources: list[str]
    source_scores: dict[str, float]

    @property
    def source(self) -> str:
        """The source that proposed this item first (highest merge priority)."""
        return self.sources[0]


class CandidateSource(ABC):
    """Proposes up to ``k`` items for a request, best first, never an excluded id.

    ``kind`` names the class in the registry; ``name`` names one instance: the quota key and
    the provenance label on its candidates. It defaults to the kind, but two instances of a
    kind (say a score source per model: "ease", "tower") need names of their own.
    """

    kind: ClassVar[str]

    def __init__(self, name: str | None = None):
        self.name = name or self.kind

    @abstractmethod
    def generate(self, request: CandidateRequest, k: int) -> SourceResult: ...


CANDIDATE_SOURCES: Registry[CandidateSource] = Registry(
    "candidate source",
    CandidateSource,
)


def register_source(cls: type[CandidateSource]) -> type[CandidateSource]:
    """Class decorator: register ``cls`` under its ``kind`` (a second ``kind`` is refused)."""
    return CANDIDATE_SOURCES.register(cls.kind)(cls)


def top_ids(
    item_ids: np.ndarray,
    scores: np.ndarray,
    k: int,
    exclude: np.ndarray,
    source: str,
    allowed: np.ndarray | None = None,
) -> SourceResult:
    """Best-``k`` of ``scores`` aligned with ``item_ids``, skipping ``exclude``, -inf and
    (``allowed`` (n,) bool given) the ids it does not allow; ties keep ``item_ids`` order."""
    scores = np.array(scores, dtype=np.float32, copy=True)  # (n,)
    if len(exclude):
        scores[np.isin(item_ids, exclude)] = -np.inf
    if allowed is not None:
        scores[~allowed] = -np.inf
    valid = np.flatnonzero(np.isfinite(scores))
    if k < 1 or not len(valid):
        return SourceResult.empty(source)
    order = valid[best_first(scores[valid], k)]
    return SourceResult(source, item_ids[order].astype(np.int64), scores[order])


def best_first(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best of finite ``scores``, best first, ties by position.

    Ties matter: counts (popularity) tie by the hundred, and a plain ``argpartition`` picks
    an arbitrary subset of a tied group at the k-th place, which would change with the array
    it runs on; this order is the same whether a source scores the whole catalog, a sparse
    subset of it (in the same position order) or walks a precomputed order.
    """
    k = min(k, len(scores))
    if k < 1:
        return np.zeros(0, np.int64)
    if k < len(scores):
        kth = np.partition(-scores, k - 1)[k - 1]  # minus the k-th best score
        above = np.flatnonzero(-scores < kth)
        tied = np.flatnonzero(-scores == kth)[: k - len(above)]
        picked = np.union1d(above, tied)  # sorted positions
    else:
        picked = np.arange(len(scores))
    return picked[np.argsort(-scores[picked], kind="stable")]
