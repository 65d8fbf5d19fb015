"""The `CandidateSource` interface, its request/result types and the kind -> class registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from recsys.core.registry import Registry


def _ids(values) -> np.ndarray:
    return np.asarray(values if values is not None else [], dtype=np.int64).ravel()


@dataclass(frozen=True)
class CandidateRequest:
    """What one user (or anonymous session) asks candidates for.

    Attributes:
        history: item ids the user interacted with, oldest first.
        exclude: item ids never to return (typically the seen items, plus filtered ones).
        vector: user or query embedding in the index's space (D,); None lets the ANN source
            fall back to the mean of the history items' vectors.
    """

    history: np.ndarray = field(default_factory=lambda: _ids(None))
    exclude: np.ndarray = field(default_factory=lambda: _ids(None))
    vector: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "history", _ids(self.history))
        object.__setattr__(self, "exclude", _ids(self.exclude))


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
    item_ids: np.ndarray, scores: np.ndarray, k: int, exclude: np.ndarray, source: str
) -> SourceResult:
    """Best-``k`` of dense ``scores`` aligned with ``item_ids``, skipping ``exclude`` and -inf."""
    scores = np.array(scores, dtype=np.float32, copy=True)  # (n_items,)
    if len(exclude):
        scores[np.isin(item_ids, exclude)] = -np.inf
    valid = np.flatnonzero(np.isfinite(scores))
    if k < 1 or not len(valid):
        return SourceResult.empty(source)
    k = min(k, len(valid))
    part = valid[np.argpartition(-scores[valid], k - 1)[:k]]
    order = part[np.argsort(-scores[part], kind="stable")]
    return SourceResult(source, item_ids[order].astype(np.int64), scores[order])
