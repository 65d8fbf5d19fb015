"""Candidate sources (the contract over every registered kind), the merger and the generator.

Each source lives in a small world built from plain arrays, where its right answer is known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from index.base import create_index
from index.candidates import (
    CANDIDATE_SOURCES,
    AnnSource,
    CandidateConfig,
    CandidateGenerator,
    CandidateRequest,
    ItemItemSource,
    PopularitySource,
    RankedSource,
    ScoreSource,
    SourceResult,
    block,
    merge_candidates,
    row_sums,
)
from tests.index.contracts import SourceCase, SourceContract

ITEMS = np.array([10, 20, 30, 40, 50, 60], np.int64)


def ann_source() -> AnnSource:
    """Items on the unit circle at known angles: cosine order from any angle is known."""
    degrees = np.array([0, 20, 45, 90, 135, 180])
    rad = np.deg2rad(degrees)
    vectors = np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)  # (6, 2)
    return AnnSource(create_index("faiss-flat").build(ITEMS, vectors))


def itemknn_source() -> ItemItemSource:
    sim = np.zeros((6, 6), np.float32)
    sim[0, 1], sim[0, 3] = 0.9, 0.2  # item 10 ~ 20 (strong), 40 (weak)
    sim[2, 3], sim[2, 5], sim[2, 0] = 0.5, 0.1, 0.3  # item 30 ~ 40, 60 and 10
    return ItemItemSource(ITEMS, sp.csr_matrix(sim))


def popularity_source() -> PopularitySource:
    return PopularitySource(ITEMS, np.log1p(np.array([5, 1, 9, 0, 3, 2], np.float32)))


def next_item_source() -> ScoreSource:
    """'What comes after what you watched', over ids in a non-sorted order.

    The item right after each history item (in this source's own order) scores its place in
    the history, so later history counts more; nothing else is proposed.
    """
    order = np.array([60, 10, 50, 20, 40, 30], np.int64)

    def next_items(history: np.ndarray) -> np.ndarray:
        scores = np.full(len(order), -np.inf, np.float32)
        scores[(history + 1) % len(order)] = np.arange(1, len(history) + 1)
        return scores

    return ScoreSource("next", order, next_items)


# world -> (source, request, every id it should propose best first); a kind may have several
CASES: dict[str, Callable[[], SourceCase]] = {
    # cosine to 0 deg: 10 (1.0), 20 (.94), 30 (.71, excluded), 40 (0), 50 (-.71), 60 (-1)
    "ann": lambda: SourceCase(
        ann_source(),
        CandidateRequest(vector=np.array([1.0, 0.0]), exclude=[30]),
        [10, 20, 40, 50, 60],
    ),
    # no vector: the history's mean vector (item 20's, at 20 deg) stands in for the user
    "ann/history": lambda: SourceCase(
        ann_source(), CandidateRequest(history=[20], exclude=[20]), [10, 30, 40, 50, 60]
    ),
    # rows of 10 and 30 summed: 20 (.9), 40 (.2 + .5), 60 (.1); 10 (.3) is excluded, the
    # unknown id 999 is ignored and 50 (zero similarity) says nothing, so is not proposed
    "itemknn": lambda: SourceCase(
        itemknn_source(), CandidateRequest(history=[10, 30, 999], exclude=[10, 30]), [20, 40, 60]
    ),
    # counts 5, 1, 9 (excluded), 0, 3, 2; a zero count is still a candidate
    "popularity": lambda: SourceCase(
        popularity_source(), CandidateRequest(exclude=[30]), [10, 50, 60, 20, 40]
    ),
    # a fixed order over ids in any order: -inf never proposed, the tie 2.0 keeps id order
    # (60 before 20 here, because 60 comes first in this source's ids)
    "ranked": lambda: SourceCase(
        RankedSource(
            np.array([30, 60, 10, 20, 40, 50]),
            np.array([1.0, 2.0, 3.0, 2.0, -np.inf, 0.5], np.float32),
        ),
        CandidateRequest(history=[10]),
        [10, 60, 20, 30, 50],
    ),
    # history 10, 20, 60 sit at positions 1, 3, 0; after them come 50 (score 1), 40 (2), 10 (3)
    "score": lambda: SourceCase(
        next_item_source(), CandidateRequest(history=[10, 20, 60, 999]), [10, 40, 50]
    ),
}


class TestEveryRegisteredSource(SourceContract):
    @pytest.fixture(params=sorted(CASES))
    def case(self, request) -> SourceCase:
        return CASES[request.param]()


def test_every_registered_source_has_a_known_answer_case():
    assert {name.split("/")[0] for name in CASES} == set(CANDIDATE_SOURCES.names())


def test_score_source_names_its_results_and_passes_positions():
    seen = []

    def first_best(history: np.ndarray) -> np.ndarray:
        seen.append(history)
        return -np.arange(6.0)

    source = ScoreSource("ease", ITEMS[::-1], first_best)
    got = source.generate(CandidateRequest(history=[60, 999, 10]), k=2)
    assert source.name == "ease" and got.source == "ease"
    assert [p.tolist() for p in seen] == [[0, 5]]  # caller's order, unknown id dropped
    assert got.ids.tolist() == [60, 50]
    assert source.generate(CandidateRequest(), k=0).ids.tolist() == []  # k=0: not even scored
    assert len(seen) == 1


def test_sources_refuse_misaligned_arrays():
    with pytest.raises(ValueError, match="shape"):
        ScoreSource("bad", ITEMS, lambda pos: np.zeros(3)).generate(CandidateRequest(), k=2)
    with pytest.raises(ValueError, match="repeat"):
        ScoreSource("bad", np.array([1, 1, 2]), lambda pos: np.zeros(3))
    with pytest.raises(ValueError, match="similarity"):
        ItemItemSource(ITEMS, sp.csr_matrix((5, 5), dtype=np.float32))


def test_ann_source_without_vector_or_known_history_proposes_nothing():
    source = ann_source()
    assert len(source.generate(CandidateRequest(), k=5)) == 0
    assert len(source.generate(CandidateRequest(history=[999]), k=5)) == 0


def result(source, ids, scores):
    return SourceResult(source, np.asarray(ids, np.int64), np.asarray(scores, np.float32))


def test_merge_dedupes_keeps_best_score_and_all_sources():
    merged = merge_candidates(
        [result("ann", [1, 2, 3], [0.9, 0.8, 0.7]), result("pop", [2, 4, 5], [2.0, 1.0, 0.5])],
        quotas={"ann": 3, "pop": 2},
    )
    assert [c.item_id for c in merged] == [1, 2, 3, 4, 5]
    two = merged[1]
    assert two.sources == ["ann", "pop"] and two.source == "ann"
    assert two.score == pytest.approx(2.0)
    assert two.source_scores == pytest.approx({"ann": 0.8, "pop": 2.0})
    assert merged[3].sources == ["pop"]


def test_merge_quotas_count_only_new_items():
    merged = merge_candidates(
        [result("a", [1, 2, 3, 4], [4, 3, 2, 1]), result("b", [1, 2, 7, 8, 9], [5, 4, 3, 2, 1])],
        quotas={"a": 2, "b": 2},
    )
    # a: 1, 2 (quota 2); b repeats 1, 2 for free, then adds 7, 8 (its quota); 9 is over quota
    assert [c.item_id for c in merged] == [1, 2, 7, 8]
    assert merged[0].sources == ["a", "b"]


def test_generator_fills_quotas_and_tracks_sources():
    config = CandidateConfig(quotas={"itemknn": 1, "popularity": 2})
    gen = CandidateGenerator([popularity_source(), itemknn_source()], config)
    got = gen.generate(CandidateRequest(history=[10], exclude=[10]))
    # itemknn adds 20 (its best); popularity, asked for 3 so its quota fills even if it repeats
    # 20, proposes 30, 50, 60 and adds the first two; 60 is over its quota
    assert [c.item_id for c in got] == [20, 30, 50]
    assert got[0].source == "itemknn"
    assert {c.item_id: c.sources for c in got}[30] == ["popularity"]


def test_generator_keys_quotas_by_instance_name():
    ease = ScoreSource("ease", ITEMS, lambda pos: np.arange(6.0))  # 60 best
    tower = ScoreSource("tower", ITEMS, lambda pos: -np.arange(6.0))  # 10 best
    gen = CandidateGenerator([ease, tower], CandidateConfig(quotas={"tower": 1, "ease": 2}))
    got = gen.generate(CandidateRequest())
    assert [(c.item_id, c.source) for c in got] == [(10, "tower"), (60, "ease"), (50, "ease")]


def test_generator_refuses_sources_without_quota_or_sharing_a_name():
    with pytest.raises(KeyError, match="quota"):
        CandidateGenerator([popularity_source()], CandidateConfig(quotas={"ann": 5}))
    twice = [popularity_source(), popularity_source()]
    with pytest.raises(ValueError, match="share a name"):
        CandidateGenerator(twice, CandidateConfig(quotas={"popularity": 5}))


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_source_applies_filters_to_what_it_proposes(name):
    case = CASES[name]()
    hidden = {case.expected[0], case.expected[-1]}
    request = replace(case.request, allowed=lambda ids: ~np.isin(ids, list(hidden)))
    got = case.source.generate(request, k=len(case.expected) + 10)
    assert got.ids.tolist() == [i for i in case.expected if i not in hidden]


def test_ties_keep_position_order_whatever_the_subset():
    # five items tie at 1.0: the best 3 are the first three positions, in position order,
    # whether the source scores all items or only the tied ones
    scores = np.array([0.5, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0], np.float32)
    ids = np.arange(100, 107)
    full = ScoreSource("s", ids, lambda _h: scores).generate(CandidateRequest(), k=4)
    assert full.ids.tolist() == [103, 101, 102, 104]
    tied = np.flatnonzero(scores == 1.0)
    part = ScoreSource("s", ids[tied], lambda _h: scores[tied]).generate(CandidateRequest(), 3)
    assert part.ids.tolist() == [101, 102, 104]
    ranked = RankedSource(ids, scores).generate(CandidateRequest(exclude=[103]), k=3)
    assert ranked.ids.tolist() == [101, 102, 104]


def test_ann_source_rescores_exactly_and_widens_past_filters_and_silent_items():
    source = ann_source()
    # the exact scorer disagrees with the index: it ranks by id and says nothing about 20
    exact = lambda found, q: np.where(found == 20, -np.inf, -found).astype(np.float32)  # noqa: E731
    rescored = AnnSource(source.index, name="ann", exact=exact)
    request = CandidateRequest(vector=np.array([1.0, 0.0]), exclude=[10])
    got = rescored.generate(request, k=3)
    assert got.ids.tolist() == [30, 40, 50]
    np.testing.assert_array_equal(got.scores, [-30, -40, -50])
    # a filter letting one item through is still found, however far down the index it sits
    only_60 = replace(request, allowed=lambda ids: ids == 60)
    assert source.generate(only_60, k=2).ids.tolist() == [60]
    # a vector of its own (by source name) wins over the request's shared one
    own = CandidateRequest(vector=np.array([1.0, 0.0]), vectors={"ann": np.array([-1.0, 0.0])})
    assert source.generate(own, k=1).ids.tolist() == [60]


def test_ranked_source_walks_past_more_excluded_ids_than_it_returns():
    ids = np.arange(1000, 1100)
    source = RankedSource(ids, -np.arange(100, dtype=np.float32))  # 1000 best
    request = CandidateRequest(exclude=ids[:60], allowed=lambda found: found % 2 == 0)
    assert source.generate(request, k=5).ids.tolist() == [1060, 1062, 1064, 1066, 1068]
    assert len(source.generate(CandidateRequest(exclude=ids[:98]), k=5)) == 2


def test_sparse_row_helpers_match_the_dense_matrix_to_the_bit():
    rng = np.random.default_rng(0)
    dense = np.where(rng.random((40, 40)) < 0.1, rng.random((40, 40)), 0).astype(np.float32)
    matrix = sp.csr_matrix(dense)
    rows = np.array([7, 3, 3, 19, 0])  # any order, repeats allowed
    cols, sums = row_sums(matrix, rows)
    full = np.asarray(matrix[rows].sum(axis=0)).ravel()
    np.testing.assert_array_equal(sums, full[cols])
    assert not np.delete(full, cols).any()
    picked = np.array([30, 2, 11, 7])
    np.testing.assert_array_equal(block(matrix, rows, picked), dense[rows][:, picked])
    empty = sp.csr_matrix((40, 40), dtype=np.float32)
    assert len(row_sums(empty, rows)[0]) == 0 and not block(empty, rows, picked).any()


@pytest.mark.parametrize("kind", ["faiss-flat", "faiss-hnsw"])
@pytest.mark.parametrize("share", [0.03, 0.5])  # few pass: exact over them; many: widened ANN
def test_ann_source_under_a_filter_finds_the_best_allowed_items(kind, share):
    rng = np.random.default_rng(1)
    ids = np.arange(5, 3005, dtype=np.int64) * 3
    vectors = rng.standard_normal((len(ids), 24)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    source = AnnSource(create_index(kind).build(ids, vectors), name="ann")
    allowed = set(ids[rng.random(len(ids)) < share].tolist())
    q = vectors[7]
    excluded = ids[np.argsort(-(vectors @ q))[:3]]  # the three nearest are already seen
    request = CandidateRequest(
        vector=q, exclude=excluded, allowed=lambda found: np.isin(found, list(allowed))
    )
    got = source.generate(request, k=10)
    passing = np.array([i for i in ids if i in allowed and i not in set(excluded)])
    truth = passing[np.argsort(-(vectors[np.searchsorted(ids, passing)] @ q))[:10]]
    assert set(got.ids.tolist()) <= allowed and not set(got.ids.tolist()) & set(excluded)
    assert len(set(got.ids.tolist()) & set(truth.tolist())) >= 9  # HNSW may miss one
    assert (np.diff(got.scores) <= 1e-6).all()
