"""Behaviour every `Index` kind and every `CandidateSource` must have, as test mixins.

A concrete test class inherits a contract and provides its fixtures: ``kind`` (a registered
index kind) for `IndexContract`; ``case`` (a source with its known answer) for
`SourceContract`. test_indexes.py and test_candidates.py run them over every registered name,
so a new kind or source is held to the contract as soon as it registers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from index.base import INDEXES, Index, create_index, load_index
from index.candidates import CandidateRequest, CandidateSource

# recall@10 every approximate kind must reach on the clustered catalog (conftest.catalog):
# measured 1.00 for faiss-hnsw and 0.91 for faiss-ivfpq (4-bit codes, default parameters)
MIN_RECALL_AT_10 = 0.85


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each row of ``truth`` that ``found`` recovered."""
    rows = zip(found.tolist(), truth.tolist(), strict=True)
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in rows]))


class IndexContract:
    """Needs a ``kind`` fixture; builds it once per class over the shared catalog."""

    @pytest.fixture(scope="class")
    def built(self, kind, catalog) -> Index:
        return create_index(kind).build(catalog.ids, catalog.vectors)

    def test_registered_under_its_kind(self, kind):
        assert INDEXES.get(kind).kind == kind

    def test_known_answer(self, built, catalog):
        found, scores = built.search(catalog.queries, k=10)
        truth = catalog.brute_force(catalog.queries, 10)
        assert found.shape == (len(catalog.queries), 10) and found.dtype == np.int64
        if built.exact:
            np.testing.assert_array_equal(found, truth)
            exact = np.sort(catalog.queries @ catalog.vectors.T, axis=1)[:, ::-1][:, :10]
            np.testing.assert_allclose(scores, exact, atol=1e-5)
        else:
            assert recall(found, truth) >= MIN_RECALL_AT_10
        assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first

    def test_exclude_is_honoured_and_k_still_returned(self, built, catalog):
        queries = catalog.queries[:3]
        nearest = catalog.brute_force(queries, 8)
        # query 0 loses its 8 nearest, query 1 an id list of other items, query 2 nothing
        exclude = [nearest[0], catalog.ids[100:300], np.array([], np.int64)]
        found, scores = built.search(queries, k=10, exclude=exclude)
        assert (found >= 0).all() and np.isfinite(scores).all()  # still k each
        for row, hidden in zip(found, exclude, strict=True):
            assert not np.isin(row, hidden).any()
        np.testing.assert_array_equal(found[2], built.search(queries[2:], k=10)[0][0])
        if built.exact:  # the brute-force answer after the 8 hidden ones
            np.testing.assert_array_equal(found[0], catalog.brute_force(queries[:1], 18)[0, 8:])

    def test_fewer_than_k_pads_with_minus_one(self, built, catalog):
        left = catalog.ids[[3, 50, 700, 1200, 1999]]
        exclude = [np.setdiff1d(catalog.ids, left)]
        found, scores = built.search(catalog.queries[:1], k=10, exclude=exclude)
        assert sorted(found[0, :5].tolist()) == sorted(left.tolist())  # every item that is left
        assert (found[0, 5:] == -1).all() and np.isneginf(scores[0, 5:]).all()
        assert (np.diff(scores[0, :5]) <= 1e-6).all()

    def test_k_beyond_catalog_returns_everything(self, built, catalog):
        n = len(catalog.ids)
        found, _ = built.search(catalog.queries[:1], k=n + 5)
        assert sorted(found[0, :n].tolist()) == sorted(catalog.ids.tolist())
        assert (found[0, n:] == -1).all()

    def test_save_load_round_trip(self, built, catalog, tmp_path):
        built.save(tmp_path / "ix", lineage={"source": "test", "table_version": 3})
        exclude = [catalog.ids[:5]] * len(catalog.queries)
        before = built.search(catalog.queries, k=15, exclude=exclude)
        for mmap in (False, True):  # serving replicas mmap the file
            loaded = load_index(tmp_path / "ix", mmap=mmap)
            assert type(loaded) is type(built) and loaded.count == built.count
            after = loaded.search(catalog.queries, k=15, exclude=exclude)
            np.testing.assert_array_equal(before[0], after[0])
            np.testing.assert_allclose(before[1], after[1], rtol=1e-6)
            maps = Path("/proc/self/maps")
            if mmap and maps.exists():  # the vectors stay in the file, shared between workers
                assert str((tmp_path / "ix").resolve()) in maps.read_text()

    def test_manifest_content(self, built, tmp_path):
        built.save(tmp_path / "ix", lineage={"source": "item_text"})
        manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
        assert manifest["kind"] == built.kind and manifest["metric"] == "ip"
        assert manifest["dim"] == 32 and manifest["count"] == 2000
        assert manifest["lineage"] == {"source": "item_text"}
        assert manifest["format_version"] == 1 and manifest["faiss_version"]
        assert {"created_at", "params", "config"} <= set(manifest)

    def test_reconstruct_by_id(self, built, catalog):
        picked = catalog.ids[[5, 2, 1999]]
        np.testing.assert_allclose(built.reconstruct(picked), catalog.vectors[[5, 2, 1999]])
        np.testing.assert_array_equal(built.ids(), np.sort(catalog.ids))
        assert built.reconstruct(np.array([], np.int64)).shape == (0, 32)
        with pytest.raises(KeyError, match="999999"):
            built.reconstruct(np.array([999999]))

    def test_l2_scores_are_negated_squared_distances(self, kind, item_data):
        ids, vectors = item_data
        index = create_index(kind).build(ids, vectors, metric="l2")
        found, scores = index.search(vectors[:5], k=3)
        np.testing.assert_array_equal(found[:, 0], ids[:5])
        np.testing.assert_allclose(scores[:, 0], 0.0, atol=1e-4)  # -||x - x||^2
        assert (scores <= 1e-4).all() and index.metric == "l2"

    def test_bad_input_is_rejected(self, kind, item_data):
        ids, vectors = item_data
        with pytest.raises(ValueError, match="duplicate"):
            create_index(kind).build(np.zeros(len(ids), np.int64), vectors)
        bad = vectors.copy()
        bad[3, 0] = np.nan
        with pytest.raises(ValueError, match=str(ids[3])):
            create_index(kind).build(ids, bad)
        with pytest.raises(RuntimeError, match="empty"):
            create_index(kind).search(vectors[:1], k=3)

    def test_bad_queries_are_rejected(self, built):
        with pytest.raises(ValueError, match="dim"):
            built.search(np.zeros((1, 7), np.float32), k=3)
        with pytest.raises(ValueError, match="k must be"):
            built.search(np.zeros((1, 32), np.float32), k=0)


@dataclass(frozen=True)
class SourceCase:
    """A source in a small world where its right answer is known.

    ``expected`` is every id the source should propose for ``request``, best first (at least
    three, so hiding some leaves a known answer); requests that also exclude some of them must
    get the same list without the excluded ids.
    """

    source: CandidateSource
    request: CandidateRequest
    expected: list[int]


class SourceContract:
    """Needs a ``case`` fixture (a `SourceCase`)."""

    def test_known_answer(self, case):
        got = case.source.generate(case.request, k=len(case.expected) + 10)
        assert got.ids.tolist() == case.expected
        assert got.source == case.source.name and got.ids.dtype == np.int64

    def test_best_first(self, case):
        got = case.source.generate(case.request, k=len(case.expected))
        assert len(got.scores) == len(got.ids) and np.isfinite(got.scores).all()
        assert (np.diff(got.scores) <= 1e-6).all()

    def test_at_most_k(self, case):
        for k in (0, 1, 2):
            got = case.source.generate(case.request, k=k)
            assert got.ids.tolist() == case.expected[:k]

    @pytest.mark.parametrize("hide", [[0], [1, 2], [-1]])
    def test_never_returns_an_excluded_id(self, case, hide):
        hidden = [case.expected[i] for i in hide]
        request = CandidateRequest(
            history=case.request.history,
            exclude=np.concatenate([case.request.exclude, hidden]),
            vector=case.request.vector,
        )
        got = case.source.generate(request, k=len(case.expected) + 10)
        assert got.ids.tolist() == [i for i in case.expected if i not in hidden]
