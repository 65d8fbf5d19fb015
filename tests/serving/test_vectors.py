"""The engine's per-modality vectors: an exact scan of the rows, cached once per store state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from recsys.core.interactions import IdVocab
from serving.engine.vector_cache import cache_key, cached
from serving.engine.vectors import EXACT_KIND, ExactScan


def _space(n: int = 300, d: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, d)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    present = rng.random(n) > 0.1
    return m, present, IdVocab.from_ids(np.arange(n, dtype=np.int64) * 7 + 3)


@pytest.mark.parametrize("block", [7, 64, 8192])  # many blocks, a few, one
def test_the_scan_finds_the_brute_force_top_k_of_present_rows(monkeypatch, block):
    m, present, vocab = _space()
    monkeypatch.setattr(ExactScan, "BLOCK", block)
    search = ExactScan(m, present, vocab)
    assert search.kind == EXACT_KIND and not search.published
    for q in (m[5], m[17] + m[40]):
        found, scores = search.search(q, 10)
        truth = np.flatnonzero(present)[np.argsort(-(m[present] @ q), kind="stable")[:10]]
        np.testing.assert_array_equal(found, truth)  # dense indices of the vocab, best first
        np.testing.assert_allclose(scores, m[truth] @ q, rtol=1e-5)
        assert not (set(found.tolist()) & set(np.flatnonzero(~present).tolist()))


def test_fewer_present_rows_than_k_gives_only_them():
    m, _, vocab = _space(n=50)
    present = np.zeros(50, bool)
    present[[3, 9, 30]] = True
    found, scores = ExactScan(m, present, vocab).search(m[9], 10)
    assert found[0] == 9 and sorted(found.tolist()) == [3, 9, 30]
    assert np.isfinite(scores).all()


def test_the_scan_reads_a_read_only_memory_map_from_many_threads(tmp_path):
    m, present, vocab = _space()
    np.save(tmp_path / "m.npy", m)
    mapped = np.load(tmp_path / "m.npy", mmap_mode="r")  # as the cache hands it out
    search = ExactScan(mapped, present, vocab)
    queries = np.flatnonzero(present)[:32]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: int(search.search(m[i], 5)[0][0]), queries))
    assert answers == queries.tolist()  # each present item is its own nearest


def _made(calls: list[int], value: float = 1.0):
    def make():
        calls.append(1)
        matrix = np.full((4, 3), value, np.float32)
        return matrix, np.asarray([True, False, True, True]), {"pair_mean": value}

    return make


def test_cache_writes_once_and_maps_the_copy(tmp_path):
    vocab = IdVocab.from_ids(np.arange(4, dtype=np.int64))
    key = cache_key("item_text", (3, 1), vocab)
    calls: list[int] = []
    first = cached(tmp_path, key, _made(calls))
    second = cached(tmp_path, key, _made(calls, value=9.0))  # a hit: make is not called
    assert calls == [1]
    for matrix, present, meta in (first, second):
        np.testing.assert_array_equal(matrix, np.ones((4, 3), np.float32))
        assert present.tolist() == [True, False, True, True] and meta["pair_mean"] == 1.0
        assert not matrix.flags.writeable  # the shared pages cannot be changed by a worker
    assert isinstance(second[0].base, np.memmap)


def test_a_new_state_or_catalog_is_a_new_key_and_replaces_the_old_copy(tmp_path):
    vocab = IdVocab.from_ids(np.arange(4, dtype=np.int64))
    grown = IdVocab.from_ids(np.arange(5, dtype=np.int64))
    keys = {
        cache_key("item_text", (3, 1), vocab),
        cache_key("item_text", (4, 1), vocab),  # the table was written to
        cache_key("item_text", (3, 2), vocab),  # a job completed: another default version
        cache_key("item_text", (3, 1), grown),
        cache_key("item_image", (3, 1), vocab),
    }
    assert len(keys) == 5
    calls: list[int] = []
    old, new = cache_key("item_text", (3, 1), vocab), cache_key("item_text", (4, 1), vocab)
    other = cache_key("item_image", (3, 1), vocab)
    for key in (old, other, new):
        cached(tmp_path, key, _made(calls))
    assert not (tmp_path / old).exists()  # superseded by the table's newer state
    assert not (tmp_path / f".{old}.lock").exists()
    assert (tmp_path / new / "manifest.json").exists() and (tmp_path / other).exists()


def test_concurrent_misses_read_the_store_once(tmp_path):
    vocab = IdVocab.from_ids(np.arange(4, dtype=np.int64))
    key = cache_key("item_text", (1, 0), vocab)
    calls: list[int] = []
    with ThreadPoolExecutor(4) as pool:  # flock is per open file: threads contend like workers
        results = list(pool.map(lambda _: cached(tmp_path, key, _made(calls)), range(4)))
    assert calls == [1]
    assert all(np.array_equal(r[0], results[0][0]) for r in results)


def test_an_unwritable_cache_serves_from_memory(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    calls: list[int] = []
    matrix, present, _ = cached(blocked / "vectors", "k", _made(calls))
    assert calls == [1] and matrix.flags.writeable and present.sum() == 3
