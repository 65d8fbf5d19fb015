"""The `Index` interface (nearest items by vector) and the name -> class registry."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from index.config import IndexConfig

MANIFEST = "manifest.json"
FORMAT_VERSION = 1

# What search returns: ids (B, k) int64 padded with -1, scores (B, k) float32 padded with -inf.
SearchResult = tuple[np.ndarray, np.ndarray]


class Index(ABC):
    """A vector index over items keyed by int64 item ids.

    Scores are "higher is better" for every metric (inner product as is, L2 negated), so
    callers can merge results from different indexes without knowing the metric.
    """

    kind: ClassVar[str]

    def __init__(self, config: IndexConfig | None = None):
        self.config = config or IndexConfig()

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @property
    @abstractmethod
    def count(self) -> int: ...

    @property
    def metric(self) -> str:
        return self.config.metric

    @abstractmethod
    def build(self, ids: np.ndarray, vectors: np.ndarray, metric: str | None = None) -> Index:
        """Index ``vectors`` (N, D) float32 under ``ids`` (N,) int64; returns self."""

    @abstractmethod
    def search(
        self, queries: np.ndarray, k: int, exclude: Sequence[np.ndarray] | None = None
    ) -> SearchResult:
        """Top-``k`` ids and scores per query (B, D), never returning ``exclude[b]`` ids.

        Exactly ``k`` results come back per query whenever the catalog minus the excluded ids
        holds at least ``k`` items; otherwise the tail is padded with id -1.
        """

    @abstractmethod
    def ids(self) -> np.ndarray:
        """All indexed item ids (N,) int64, sorted; a read-only array (do not modify)."""

    @abstractmethod
    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors (n, D) of ``ids``; KeyError names any id not in the index."""

    @abstractmethod
    def save(self, directory: Path, lineage: dict[str, Any] | None = None) -> None:
        """Write the index file plus a JSON manifest (kind, params, dim, count, lineage)."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path, mmap: bool = False) -> Index: ...


INDEXES: dict[str, type[Index]] = {}


def register(cls: type[Index]) -> type[Index]:
    INDEXES[cls.kind] = cls
    return cls


def _ensure_registered() -> None:
    # the implementations register themselves on import; importing here avoids a cycle
    import index.faiss_kinds  # noqa: F401


def create_index(kind: str, config: IndexConfig | None = None) -> Index:
    """A fresh, empty index of ``kind`` (e.g. ``"faiss-hnsw"``)."""
    _ensure_registered()
    if kind not in INDEXES:
        raise KeyError(f"unknown index kind {kind!r}; known: {', '.join(sorted(INDEXES))}")
    config = (config or IndexConfig()).model_copy(update={"kind": kind})
    return INDEXES[kind](config)


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"no index manifest at {path}; run `recsys index` first")
    return json.loads(path.read_text())


def load_index(directory: Path, mmap: bool = False) -> Index:
    """Load whichever index kind ``directory`` holds (dispatch on its manifest)."""
    _ensure_registered()
    kind = read_manifest(directory)["kind"]
    if kind not in INDEXES:
        raise KeyError(f"{directory} holds index kind {kind!r}, unknown to this version")
    return INDEXES[kind].load(Path(directory), mmap=mmap)
