"""Create or load an index of any registered kind: the entry points callers use.

This module imports the FAISS kinds, so the registry is complete whenever ``create_index`` or
``load_index`` can be called; the interface itself lives in `index.interface`.
"""

from __future__ import annotations

from pathlib import Path

from index import faiss_kinds  # noqa: F401  (registers faiss-flat, faiss-hnsw, faiss-ivfpq)
from index.config import IndexConfig
from index.interface import INDEXES, Index, SearchResult, read_manifest

__all__ = ["INDEXES", "Index", "SearchResult", "create_index", "load_index", "read_manifest"]


def create_index(kind: str, config: IndexConfig | None = None) -> Index:
    """A fresh, empty index of ``kind`` (e.g. ``"faiss-hnsw"``); KeyError names the known."""
    cls = INDEXES.get(kind)
    config = (config or IndexConfig()).model_copy(update={"kind": kind})
    return cls(config)


def load_index(directory: Path, mmap: bool = False) -> Index:
    """Load whichever index kind ``directory`` holds (dispatch on its manifest)."""
    kind = read_manifest(directory)["kind"]
    if kind not in INDEXES:
        raise KeyError(f"{directory} holds index kind {kind!r}, unknown to this version")
    return INDEXES.get(kind).load(Path(directory), mmap=mmap)
