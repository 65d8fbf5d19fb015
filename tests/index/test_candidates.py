"""Candidate sources and the quota merger, on hand-built models with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from index.base import create_index
from index.candidates import (
    AnnSource,
    CandidateConfig,
    CandidateGenerator,
    CandidateRequest,
    ItemItemSource,
    PopularitySource,
    SourceResult,
    merge_candidates,
)
from recsys.core.interactions import IdVocab
from recsys.models.itemknn import ItemKNN
from recsys.models.popularity import Popularity

ITEMS = IdVocab.from_ids([10, 20, 30, 40, 50])


def result(source, ids, scores):
    return SourceResult(source, np.asarray(ids, np.int64), np.asarray(scores, np.float32))


@pytest.fixture
def popularity():
    return Popularity(ITEMS, IdVocab.from_ids([1]), np.array([5, 1, 9, 0, 3], np.float32))


@pytest.fixture
def itemknn():
    sim = np.zeros((5, 5), np.float32)
    sim[0, 1], sim[0, 3] = 0.9, 0.2  # item 10 ~ 20 (strong), 40 (weak)
    sim[2, 3] = 0.5  # item 30 ~ 40
    return ItemKNN(ITEMS, IdVocab.from_ids([1]), sp.csr_matrix(sim), neighbours=2)


def test_merge_dedupes_keeps_best_score_and_all_sources():
    merged = merge_candidates(
        [result("ann", [1, 2, 3], [0.9, 0.8, 0.7]), result("pop", [2, 4, 5], [2.0, 1.0, 0.5])],
        quotas={"ann": 3, "pop": 2},
    )
    assert [c.item_id for c in merged] == [1, 2, 3, 4, 5]
    two = merged[1]
    assert two.sources == ["ann", "pop"] and two.source == "ann"
    assert two.score == pytest.approx(2.0) and two.source_scores == pytest.approx(
        {"ann": 0.8, "pop": 2.0}
    )
    assert merged[3].sources == ["pop"]


def test_merge_quotas_count_only_new_items():
    merged = merge_candidates(
        [result("a", [1, 2, 3, 4], [4, 3, 2, 1]), result("b", [1, 2, 7, 8, 9], [5, 4, 3, 2, 1])],
        quotas={"a": 2, "b": 2},
    )
    # a: 1, 2 (quota 2); b repeats 1, 2 for free, then adds 7, 8 (its quota); 9 is over quota
    assert [c.item_id for c in merged] == [1, 2, 7, 8]
    assert merged[0].sources == ["a", "b"]


def test_popularity_source_excludes(popularity):
    got = PopularitySource(popularity).generate(CandidateRequest(exclude=[30]), k=3)
    assert got.ids.tolist() == [10, 50, 20]
    assert got.scores[0] == pytest.approx(np.log1p(5))


def test_itemitem_source_sums_history_rows(itemknn):
    got = ItemItemSource(itemknn).generate(CandidateRequest(history=[10, 30, 999]), k=10)
    # 40 co-occurs with both history items (0.2 + 0.5) but 20 is stronger (0.9); the unknown
    # id 999 is ignored and items with zero similarity (50) are not proposed at all
    assert got.ids.tolist() == [20, 40]
    np.testing.assert_allclose(got.scores, [0.9, 0.7], rtol=1e-6)


def test_ann_source_uses_vector_or_history_mean(item_data):
    ids, vectors = item_data
    source = AnnSource(create_index("faiss-flat").build(ids, vectors))
    got = source.generate(CandidateRequest(vector=vectors[7], exclude=[ids[7]]), k=5)
    assert len(got) == 5 and ids[7] not in got.ids
    from_history = source.generate(CandidateRequest(history=[ids[7]]), k=1)
    assert from_history.ids.tolist() == [ids[7]]  # mean of one vector is that vector
    assert len(source.generate(CandidateRequest(), k=5)) == 0  # nothing to go on


def test_generator_fills_quotas_and_tracks_sources(popularity, itemknn):
    config = CandidateConfig(quotas={"itemknn": 1, "popularity": 2})
    gen = CandidateGenerator([PopularitySource(popularity), ItemItemSource(itemknn)], config)
    got = gen.generate(CandidateRequest(history=[10], exclude=[10]))
    # itemknn adds 20; popularity's best non-excluded are 30, 50 (20 it also proposes is free)
    assert [c.item_id for c in got] == [20, 30, 50]
    assert got[0].source == "itemknn"
    assert {c.item_id: c.sources for c in got}[30] == ["popularity"]


def test_generator_requires_a_quota_per_source(popularity):
    with pytest.raises(KeyError, match="quota"):
        CandidateGenerator([PopularitySource(popularity)], CandidateConfig(quotas={"ann": 5}))
