"""Metrics on hand-computed examples, plus a cross-check against ranx."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.core import metrics as M


def _relevant(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    r = [u for u, items in enumerate(rows) for _ in items]
    c = [i for items in rows for i in items]
    return sp.csr_matrix((np.ones(len(c)), (r, c)), shape=(len(rows), n_items))


def test_hand_computed_example():
    # user 0: relevant {1, 3}; ranked [1, 0, 3] → hits at ranks 1 and 3
    # user 1: relevant {4};    ranked [0, 2, 5] → no hit
    top = np.array([[1, 0, 3], [0, 2, 5]])
    rel = _relevant([[1, 3], [4]], 6)
    m = M.accuracy(top, rel, ks=(3,))
    np.testing.assert_allclose(m["recall@3"], [1.0, 0.0])
    np.testing.assert_allclose(m["precision@3"], [2 / 3, 0.0])
    np.testing.assert_allclose(m["hitrate@3"], [1.0, 0.0])
    np.testing.assert_allclose(m["mrr@3"], [1.0, 0.0])
    ndcg0 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    np.testing.assert_allclose(m["ndcg@3"], [ndcg0, 0.0])
    np.testing.assert_allclose(m["map@3"], [(1 + 2 / 3) / 2, 0.0])


def test_cutoff_smaller_than_list():
    top = np.array([[2, 1, 0]])
    rel = _relevant([[1]], 3)
    m = M.accuracy(top, rel, ks=(1, 2))
    assert m["recall@1"][0] == 0 and m["recall@2"][0] == 1
    assert m["mrr@2"][0] == 0.5


def test_beyond_accuracy():
    top = np.array([[0, 1], [0, 2]])
    assert M.coverage(top, 4) == 0.75
    counts = np.array([3.0, 1.0, 0.0, 0.0])
    pct = M.popularity_percentile(counts)
    assert pct[0] == 1.0
    assert M.popularity_bias(top, counts) == pytest.approx(np.mean(pct[[0, 1, 0, 2]]))
    # novelty: p = (c + 1) / (users + 1) with 3 users
    expected = np.mean([-math.log2(4 / 4), -math.log2(2 / 4), -math.log2(4 / 4), -math.log2(1 / 4)])
    assert M.novelty(top, counts, 3) == pytest.approx(expected)
    vecs = np.array([[1.0, 0], [1.0, 0], [0, 1.0], [1, 1.0]])
    # list 0 identical vectors → distance 0; list 1 orthogonal → distance 1
    assert M.intra_list_diversity(top, vecs) == pytest.approx(0.5)
    assert M.intra_list_diversity(top, None) is None


def test_bootstrap_ci_is_seeded_and_brackets_mean():
    values = np.random.default_rng(1).random(200)
    a = M.bootstrap_ci(values, 500, seed=3)
    assert a == M.bootstrap_ci(values, 500, seed=3)
    assert a[0] < values.mean() < a[1]
    s = M.summarize({"x": values}, n_boot=200)
    assert s["x"]["lo"] < s["x"]["mean"] < s["x"]["hi"]


# Not marked slow although ranx JIT-compiles its metrics with numba on first use (~35 s cold):
# the cross-check is part of what `make test` must prove.
def test_matches_ranx():
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(0)
    n_users, n_items, k = 30, 50, 10
    scores = rng.random((n_users, n_items))
    top = np.argsort(-scores, axis=1)[:, :k]
    rel_rows = [
        list(rng.choice(n_items, int(rng.integers(1, 8)), replace=False)) for _ in range(n_users)
    ]
    rel = _relevant(rel_rows, n_items)
    ours = M.accuracy(top, rel, ks=(k,))
    qrels = ranx.Qrels({f"u{u}": {f"i{i}": 1 for i in items} for u, items in enumerate(rel_rows)})
    run = ranx.Run(
        {f"u{u}": {f"i{i}": float(scores[u, i]) for i in top[u]} for u in range(n_users)}
    )
    theirs = ranx.evaluate(qrels, run, [f"ndcg@{k}", f"recall@{k}"], make_comparable=True)
    assert np.mean(ours[f"ndcg@{k}"]) == pytest.approx(theirs[f"ndcg@{k}"], abs=1e-6)
    assert np.mean(ours[f"recall@{k}"]) == pytest.approx(theirs[f"recall@{k}"], abs=1e-6)
