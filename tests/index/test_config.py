import pytest
from pydantic import ValidationError

from index.config import IndexConfig, choose_kind


def test_choose_kind_by_catalog_size():
    assert choose_kind(10) == "faiss-flat"
    assert choose_kind(49_999) == "faiss-flat"
    assert choose_kind(50_000) == "faiss-hnsw"
    assert choose_kind(2_999_999) == "faiss-hnsw"
    assert choose_kind(3_000_000) == "faiss-ivfpq"


def test_choose_kind_config_overrides():
    assert choose_kind(10, IndexConfig(kind="faiss-ivfpq")) == "faiss-ivfpq"
    assert choose_kind(100, IndexConfig(flat_max_items=50)) == "faiss-hnsw"


def test_config_rejects_unknown_fields_and_kinds():
    with pytest.raises(ValidationError):
        IndexConfig(kind="annoy")
    with pytest.raises(ValidationError):
        IndexConfig(hnsw={"m": 16, "typo": 1})
