"""Candidate retrieval: FAISS indexes over item vectors and candidate generators."""

from index.base import INDEXES, Index, create_index, load_index
from index.config import IndexConfig, choose_kind

__all__ = ["INDEXES", "Index", "IndexConfig", "choose_kind", "create_index", "load_index"]
