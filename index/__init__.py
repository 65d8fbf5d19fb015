"""Candidate retrieval: FAISS indexes over item vectors and candidate generators."""

from index.base import INDEXES, Index, create_index, load_index, read_manifest
from index.clean import drop_bad_rows
from index.config import IndexConfig, choose_kind

__all__ = [
    "INDEXES",
    "Index",
    "IndexConfig",
    "choose_kind",
    "create_index",
    "drop_bad_rows",
    "load_index",
    "read_manifest",
]
