"""Known-answer tests of the hybrid ranker on a tiny clustered world (tests/models/toy_world)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from recsys.core.interactions import IdVocab
from recsys.models.base import RECOMMENDERS, top_k
from recsys.models.hybrid import HybridConfig, HybridRecommender, fit_hybrid, update_hybrid
from tests.models.toy_world import cluster_world

CFG = HybridConfig(
    dim=32, n_layers=1, max_len=8, batch_size=16, max_epochs=30, eval_every=20, patience=4,
    id_dropout=0.5, lr=1e-2,
)  # fmt: skip


def quiet(_line: str) -> None:
    pass


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: thread hand-off costs more than it saves on a shared 2-core box."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def world():
    return cluster_world(seed=0)


@pytest.fixture(scope="module")
def cold_item(world):
    """Item 147 (cluster 3) is in the catalog but never in training."""
    return int(world.item_ids[-1])


@pytest.fixture(scope="module")
def trained(world, cold_item):
    inter = world.interactions.filter(pl.col("item_id") != cold_item)
    return fit_hybrid(inter, world.item_ids, world.content, CFG, log=quiet, device="cpu")


def recommend(rec: HybridRecommender, user_ids, k=1) -> np.ndarray:
    users = rec.user_vocab.index(user_ids)
    seen = sp.csr_matrix(
        (np.ones(len(rec.sequences.items)), rec.sequences.items, rec.sequences.indptr),
        shape=(rec.sequences.n_users, len(rec.item_vocab)),
    )[users]
    scores = rec.score(users, sp.csr_matrix(seen.shape, dtype=np.float32))
    return top_k(scores, k, seen)


def test_registered_and_next_item_comes_from_the_users_cluster(trained, world):
    assert RECOMMENDERS.get("hybrid") is HybridRecommender
    users = np.array(sorted(world.user_cluster))
    top = recommend(trained, users)[:, 0]
    clusters = world.item_cluster[trained.item_vocab.ids[top] - world.item_ids[0]]
    expected = np.array([world.user_cluster[u] for u in users])
    assert (clusters == expected).mean() >= 0.9
    assert trained.lineage["best_valid_ndcg10"] > 0.2


def test_cold_item_is_retrieved_from_content_alone(trained, world, cold_item):
    col = trained.item_vocab.index([cold_item])[0]
    assert np.all(trained.model.item_id.weight.detach().numpy()[col] == 0)  # content only
    users = np.array(sorted(world.user_cluster))
    own = np.array([world.user_cluster[u] == 3 for u in users])
    ranks = (recommend(trained, users, k=len(trained.item_vocab)) == col).argmax(1)
    assert np.median(ranks[own]) < 6  # of ~40 unseen items
    assert np.median(ranks[own]) < np.median(ranks[~own])


def test_add_items_scores_a_brand_new_item_from_content(trained, world):
    rec = HybridRecommender(trained.model, trained.item_vocab, trained.user_vocab,
                            trained.sequences)  # fmt: skip
    import copy

    rec = copy.deepcopy(rec)
    content = world.content[world.item_cluster == 0].mean(0, keepdims=True)
    (col,) = rec.add_items(np.array([5]), content)
    assert rec.item_vocab.ids[col] == 5 and rec.item_vectors().shape[0] == len(world.item_ids) + 1
    users = np.array(sorted(world.user_cluster))
    own = np.array([world.user_cluster[u] == 0 for u in users])
    ranks = (recommend(rec, users, k=len(rec.item_vocab)) == col).argmax(1)
    assert np.median(ranks[own]) < np.median(ranks[~own])


def test_anonymous_history_and_encode_users(trained, world):
    history = list(trained.item_vocab.index(world.item_ids[world.item_cluster == 2][:4]))
    vec = trained.encode_users(np.array([-1]), [history])
    assert vec.shape == (1, CFG.dim + 1)
    row = sp.csr_matrix((np.ones(4), (np.zeros(4, int), history)), shape=(1, len(world.item_ids)))
    top = top_k(trained.score(np.array([-1]), row), 3, row)[0]
    assert (world.item_cluster[top] == 2).mean() >= 2 / 3


def test_save_load_round_trip_gives_identical_scores(trained, tmp_path):
    trained.save(tmp_path / "hybrid")
    loaded = HybridRecommender.load(tmp_path / "hybrid")
    users = np.array([0, 3, -1])
    hist = sp.csr_matrix(([1.0], ([2], [5])), shape=(3, len(trained.item_vocab)))
    np.testing.assert_array_equal(loaded.score(users, hist), trained.score(users, hist))
    with np.load(tmp_path / "hybrid" / "item_vectors.npz", allow_pickle=False) as f:
        np.testing.assert_array_equal(f["vectors"], trained.item_vectors())
        np.testing.assert_array_equal(f["item_ids"], trained.item_vocab.ids)


def test_same_seed_same_model(world):
    cfg = HybridConfig(dim=16, n_layers=1, max_len=8, batch_size=16, max_epochs=2, eval_every=5)
    a, b = (fit_hybrid(world.interactions, world.item_ids, world.content, cfg, log=quiet,
                       device="cpu") for _ in range(2))  # fmt: skip
    np.testing.assert_array_equal(a.item_vectors(), b.item_vectors())


def test_low_ratings_are_not_likes(world):
    """Cluster-0 fans rate cluster-1 items 1.5 stars: never a target, a token or a top pick."""
    inter = world.interactions
    hated = world.item_ids[world.item_cluster == 1][:6]
    fans = [u for u, c in world.user_cluster.items() if c == 0]
    t0 = inter["timestamp"].max()
    low = pl.DataFrame(
        {"user_id": np.repeat(fans, len(hated)), "item_id": np.tile(hated, len(fans)),
         "timestamp": [t0 + timedelta(minutes=i) for i in range(len(fans) * len(hated))],
         "kind": "rating", "rating": 1.5, "review_text": None, "watch_fraction": None},
        schema=inter.schema,
    )  # fmt: skip
    rec = fit_hybrid(pl.concat([inter, low]), world.item_ids, world.content, CFG, log=quiet,
                     device="cpu")  # fmt: skip
    hated_cols = rec.item_vocab.index(hated)
    for user in rec.user_vocab.index(fans):
        assert not np.isin(rec.sequences.row(user), hated_cols).any()
    top = recommend(rec, np.array(fans), k=3)
    assert not np.isin(top, hated_cols).any()


def test_update_adds_new_item_and_user_without_full_retrain(trained, world):
    new_item = 999
    new_user = 77
    pool = world.item_ids[world.item_cluster == 1]
    content = np.vstack([world.content, world.content[world.item_cluster == 1].mean(0)])
    item_ids = np.append(world.item_ids, new_item)
    t0 = world.interactions["timestamp"].max() + timedelta(days=1)
    rows = [(new_user, int(i), t0 + timedelta(hours=h)) for h, i in enumerate(pool[:6])]
    rows += [(u, new_item, t0 + timedelta(minutes=u)) for u, c in world.user_cluster.items()
             if c == 1]  # fmt: skip
    new = pl.DataFrame(
        {"user_id": [r[0] for r in rows], "item_id": [r[1] for r in rows],
         "timestamp": [r[2] for r in rows], "kind": "view", "rating": None,
         "review_text": None, "watch_fraction": 1.0},
        schema=world.interactions.schema,
    )  # fmt: skip
    lines: list[str] = []
    rec = update_hybrid(trained, pl.concat([world.interactions, new]), item_ids, content,
                        log=lines.append, device="cpu")  # fmt: skip
    assert any(line.startswith("update:") for line in lines)
    assert rec.lineage["warm_start"] and rec.lineage["windows"] < len(world.user_cluster)
    assert new_item in rec.item_vocab.ids and new_user in rec.user_vocab.ids
    assert len(trained.item_vocab) == len(world.item_ids)  # the warm start did not mutate init
    top = recommend(rec, np.array([new_user]), k=3)[0]
    assert (world.item_cluster[top[top < len(world.item_ids)]] == 1).all()
    assert IdVocab(rec.item_vocab.ids).index([new_item])[0] >= 0


def test_user_text_is_used_saved_and_kept_when_growing(world, tmp_path):
    users = np.array(sorted(world.user_cluster))
    text = np.random.default_rng(1).normal(size=(len(users), 5)).astype(np.float32)
    cfg = HybridConfig(dim=16, n_layers=1, max_len=8, batch_size=16, max_epochs=2, eval_every=5)
    rec = fit_hybrid(world.interactions, world.item_ids, world.content, cfg, log=quiet,
                     device="cpu", user_text=(users[:-1], text[:-1]))  # fmt: skip
    assert rec.model.text_proj is not None
    assert rec.model.user_text_mask.numpy().tolist() == [True] * (len(users) - 1) + [False]
    rec.save(tmp_path / "h")
    loaded = HybridRecommender.load(tmp_path / "h")
    hist = sp.csr_matrix((3, len(world.item_ids)), dtype=np.float32)
    np.testing.assert_array_equal(loaded.score(np.arange(3), hist), rec.score(np.arange(3), hist))
    loaded.grow(np.zeros(0, np.int64), np.zeros((0, world.content.shape[1])), np.array([0]))
    assert loaded.user_vocab.ids[0] == 0  # new user sorts first: old rows moved by one
    np.testing.assert_array_equal(loaded.model.user_text.numpy()[1:], rec.model.user_text.numpy())
    after = loaded.score(np.arange(1, 4), hist)
    np.testing.assert_array_equal(after, rec.score(np.arange(3), hist))
