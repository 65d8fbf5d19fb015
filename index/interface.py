"""The `Index` interface (nearest items by vector), its kind registry and the manifest format.

Implementations register here under their ``kind`` (``@register``); `index.base` imports
them and is where callers create or load an index, so this module never depends on a kind.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from index.config import IndexConfig
from recsys.core.registry import Registry

MANIFEST = "manifest.json"
FORMAT_VERSION = 1

# What search returns: ids (B, k) int64 padded with -1, scores (B, k) float32 padded with -inf.
SearchResult = tuple[np.ndarray, np.ndarray]


class Index(ABC):
    """A vector index over items keyed by int64 item ids.

    Scores are "higher is better" for every metric (inner product as is, L2 negated), so
    callers can merge results from different indexes without knowing the metric.
    """

    kind: ClassVar[str]  # the name it is registered under and written to its manifest
    # exact kinds return the brute-force answer; approximate ones trade recall for speed
    exact: ClassVar[bool] = False

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


INDEXES: Registry[Index] = Registry("index kind", Index)


def register(cls: type[Index]) -> type[Index]:
    """Class decorator: register ``cls`` under its ``kind`` (a second ``kind`` is refused)."""
    return INDEXES.register(cls.kind)(cls)


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"no index manifest at {path}; run `recsys index` first")
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest
