"""Known-answer tests of the hybrid re-scorer (recsys.models.hybrid.rescorer)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from recsys.models.hybrid.rescorer import FEATURES, Rescorer, ease_topk, ndcg_at_k


def test_ease_topk_matches_the_closed_form_when_nothing_is_pruned():
    rng = np.random.default_rng(0)
    dense = (rng.random((30, 6)) < 0.4).astype(np.float32)
    dense[:, 5] = 0  # an item without positives gets no weights
    x = sp.csr_matrix(dense)
    got = ease_topk(x, lam=2.0, topk=10).toarray()
    xa = x.toarray()[:, :5].astype(np.float64)
    p = np.linalg.inv(xa.T @ xa + 2.0 * np.eye(5))
    want = -p / np.diag(p)[None, :]
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(got[:5, :5], want, rtol=1e-5, atol=1e-6)
    assert not got[5].any() and not got[:, 5].any()
    pruned = ease_topk(x, lam=2.0, topk=2).toarray()
    assert ((pruned != 0).sum(0) <= 2).all()  # top-2 per column


def test_ndcg_at_k_known_answer():
    scores = np.array([[3.0, 2.0, 1.0, 0.0]])
    target = np.array([[False, True, False, False]])
    seen = np.array([[True, False, False, False]])  # item 0 excluded: item 1 ranks first
    assert ndcg_at_k(scores, target, seen, k=2) == pytest.approx(1.0)
    assert ndcg_at_k(scores, target, np.zeros_like(seen), k=2) == pytest.approx(1 / np.log2(3))


def test_fit_weights_picks_the_informative_feature():
    """Held-out item = argmax of the EASE feature, the tower score is noise: the blend must
    weight EASE and reach NDCG@10 = 1."""
    rng = np.random.default_rng(1)
    b, n = 40, 50
    feats = np.zeros((len(FEATURES), b, n), np.float32)
    feats[0] = rng.normal(size=(b, n))
    feats[1] = rng.normal(size=(b, n))
    held = np.zeros((b, n), bool)
    held[np.arange(b), feats[1].argmax(1)] = True
    feats[1] *= 0.1  # small scale: weight 0.25 cannot beat the noise, a larger one can
    r = Rescorer(np.array([1.0, 0, 0, 0, 0]), sp.csr_matrix((n, n)), np.zeros(n, np.float32))
    before = ndcg_at_k(feats[0], held, np.zeros_like(held))
    got = r.fit_weights(feats, sp.csr_matrix(held), sp.csr_matrix((b, n)))
    assert got == pytest.approx(1.0)
    assert before < 0.5
    assert r.weights[1] > 0


def test_features_cold_flag_and_save_load_remap(tmp_path):
    x = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 0]], np.float32))
    r = Rescorer.statistics(x, lam=1.0, topk=3)
    content = np.eye(4, dtype=np.float32)
    feats = r.features(np.zeros((2, 4), np.float32), x[:2], content)
    assert feats.shape == (len(FEATURES), 2, 4)
    np.testing.assert_array_equal(feats[FEATURES.index("cold")][0], [0, 0, 0, 1])
    r.save(tmp_path / "r.npz")
    back = Rescorer.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.ease.toarray(), r.ease.toarray())
    back.remap(np.array([1, 2, 3, 4]), 5)  # a new item at row 0
    assert back.log_pop[0] == 0 and back.ease[0].nnz == 0
    np.testing.assert_array_equal(back.ease.toarray()[1:, 1:], r.ease.toarray())


def test_fit_hybrid_rescorer_round_trips_and_toggles(tmp_path):
    import torch

    from recsys.models.hybrid import HybridConfig, HybridRecommender, fit_hybrid
    from tests.models.toy_world import cluster_world

    torch.set_num_threads(1)
    world = cluster_world(seed=0)
    cfg = HybridConfig(dim=16, n_layers=1, max_len=8, batch_size=32, max_epochs=2, eval_every=20)
    inter = world.interactions.filter(pl.col("item_id") != int(world.item_ids[-1]))
    rec = fit_hybrid(inter, world.item_ids, world.content, cfg, log=lambda _: None, device="cpu")
    assert rec.rescorer is not None and set(rec.lineage["rescorer_weights"]) == set(FEATURES)
    users = np.arange(4)
    hist = sp.csr_matrix((4, len(rec.item_vocab)), dtype=np.float32)
    scores = rec.score(users, hist)
    rec.save(tmp_path / "h")
    back = HybridRecommender.load(tmp_path / "h")
    np.testing.assert_allclose(back.score(users, hist), scores, rtol=1e-5, atol=1e-5)
    back.add_items(np.array([10_000]), world.content[:1])  # grow keeps the re-scorer aligned
    grown = back.score(users, sp.csr_matrix((4, len(back.item_vocab))))
    assert grown.shape == (4, len(world.item_ids) + 1)
    off = HybridConfig.from_dict({**cfg.to_dict(), "rescore": False})
    plain = fit_hybrid(inter, world.item_ids, world.content, off, log=lambda _: None, device="cpu")
    assert plain.rescorer is None


def test_boost_cold_stops_at_the_tolerance():
    """One cold item per user; lifting it evicts the held-out warm hit at top-1 once its boost
    beats the warm margin, so the tolerance decides how far the boost may go."""
    b, n = 10, 5
    feats = np.zeros((len(FEATURES), b, n), np.float32)
    feats[0, :, 0] = 2.2  # the held-out warm item leads by 2.2
    feats[FEATURES.index("cold"), :, 4] = 1.0
    held = np.zeros((b, n), bool)
    held[:, 0] = True
    r = Rescorer(np.array([1.0, 0, 0, 0, 0]), sp.csr_matrix((n, n)), np.zeros(n, np.float32))
    kept = r.boost_cold(feats, sp.csr_matrix(held), sp.csr_matrix((b, n)), tolerance=0.5)
    assert r.weights[FEATURES.index("cold")] == 8.0  # top-2 costs 37 % < 50 %: allowed
    assert kept == pytest.approx(1 / np.log2(3))
    strict = Rescorer(np.array([1.0, 0, 0, 0, 0]), sp.csr_matrix((n, n)), np.zeros(n))
    assert strict.boost_cold(feats, sp.csr_matrix(held), sp.csr_matrix((b, n)), 0.1) == 1.0
    assert strict.weights[FEATURES.index("cold")] == 2.0  # 2.5 would overtake the warm hit


def test_temporal_split_fraction_holds_out_a_recent_chunk():
    from datetime import UTC, datetime, timedelta

    from recsys.models.hybrid.data import temporal_split

    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [(1, i, t0 + timedelta(days=i)) for i in range(10)] + [(2, 100, t0), (2, 101, t0)]
    inter = pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "timestamp": [r[2] for r in rows],
            "kind": ["rating"] * len(rows),
            "rating": [5.0] * len(rows),
            "watch_fraction": [None] * len(rows),
        }
    )
    train, held = temporal_split(inter, last_n=1, min_history=3, frac=0.3)
    assert sorted(held["item_id"].to_list()) == [7, 8, 9]  # floor(0.3 * 10) most recent
    assert held.filter(pl.col("user_id") == 2).height == 0  # below min_history
    _, one = temporal_split(inter, last_n=1, min_history=3)
    assert one["item_id"].to_list() == [9]
