"""The index contract over every registered kind, plus the registry and factory themselves."""

from __future__ import annotations

from typing import get_args

import pytest

from index.base import INDEXES, create_index, load_index
from index.config import IndexConfig, IndexKind
from tests.index.contracts import IndexContract


class TestEveryRegisteredKind(IndexContract):
    @pytest.fixture(scope="class", params=INDEXES.names())
    def kind(self, request) -> str:
        return request.param


def test_every_configurable_kind_is_registered():
    # choose_kind and IndexConfig.kind name these; each must be creatable
    assert INDEXES.names() == sorted(get_args(IndexKind))


def test_create_index_applies_kind_to_config():
    index = create_index("faiss-hnsw", IndexConfig(metric="l2"))
    assert index.kind == "faiss-hnsw" and index.config.kind == "faiss-hnsw"
    assert index.metric == "l2"


def test_unknown_kinds_are_refused(item_data, tmp_path):
    with pytest.raises(KeyError, match="unknown index kind 'annoy'"):
        create_index("annoy")
    ids, vectors = item_data
    create_index("faiss-flat").build(ids, vectors).save(tmp_path / "ix")
    manifest = tmp_path / "ix" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"faiss-flat"', '"annoy"', 1))
    with pytest.raises(KeyError, match="annoy"):
        load_index(tmp_path / "ix")
    with pytest.raises(FileNotFoundError, match="recsys index"):
        load_index(tmp_path / "nothing")
