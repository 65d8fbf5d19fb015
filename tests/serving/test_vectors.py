"""The engine's per-modality search: exact, and built on the first search, once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from recsys.core.interactions import IdVocab
from serving.engine.vectors import FLAT_KIND, InMemorySearch, in_memory_search


def _space(n: int = 300, d: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, d)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    present = rng.random(n) > 0.1
    return m, present, IdVocab.from_ids(np.arange(n, dtype=np.int64) * 7 + 3)


def test_nothing_is_built_at_load_and_the_first_search_is_exact():
    m, present, vocab = _space()
    search = in_memory_search(m, present, vocab)
    assert isinstance(search, InMemorySearch) and search.index is None  # load: no index yet
    assert search.kind == FLAT_KIND and not search.published
    q = m[5]
    found, scores = search.search(q, 10)
    truth = np.flatnonzero(present)[np.argsort(-(m[present] @ q))[:10]]
    np.testing.assert_array_equal(found, truth)  # dense indices of the vocab, best first
    np.testing.assert_allclose(scores, m[truth] @ q, rtol=1e-5)
    assert not (set(found.tolist()) & set(np.flatnonzero(~present).tolist()))


def test_concurrent_first_searches_build_one_index():
    m, present, vocab = _space()
    search = in_memory_search(m, present, vocab)
    queries = np.flatnonzero(present)[:32]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: int(search.search(m[i], 5)[0][0]), queries))
    assert answers == queries.tolist()  # each present item is its own nearest
    built = search.index
    assert built is not None
    search.search(m[0], 5)
    assert search.index is built  # kept, not rebuilt
