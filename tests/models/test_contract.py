"""The ``Recommender`` contract, run over EVERY registered model (a new one is covered as soon
as it registers): fit on a clustered world with a known answer, score shape, exclusion of seen
items, save/load round trip through ``load_recommender``, and unknown users.

The world: users of a cluster like every item of it except one, which their cluster-mates
like; that skipped item is the one each model must rank near the top. Item 0 of cluster 0 is
liked by every cluster-0 user, and cluster 0 is the largest: the unique most-liked item.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from recsys.core.interactions import IdVocab
from recsys.models.base import RECOMMENDERS, Recommender, load_recommender, top_k
from tests.worlds import views_frame

CLUSTERS, ITEMS_PER, DIM = 4, 8, 8
USERS_PER = (10, 8, 8, 8)
K = 3  # the held-out item must be in the top 3 of ~25 unseen items
# Small, fast settings; a model missing here is fitted with its defaults.
PARAMS: dict[str, dict] = {
    "itemknn": {"neighbours": 20},
    "ease": {"lam": 1.0},
    "als": {"factors": 8, "iterations": 15},
    "hybrid": {
        "dim": 16, "n_layers": 1, "max_len": 8, "batch_size": 16, "max_epochs": 20,
        "eval_every": 10, "patience": 4, "device": "cpu",
    },
}  # fmt: skip


@dataclass(frozen=True)
class World:
    interactions: pl.DataFrame
    item_vocab: IdVocab
    vectors: np.ndarray  # (n_items, DIM) content: cluster centroid + noise
    user_ids: np.ndarray  # (U,)
    histories: sp.csr_matrix  # (U, n_items) liked items in item_vocab order
    held_out: np.ndarray  # (U,) item index each user skipped
    user_cluster: np.ndarray  # (U,)
    item_cluster: np.ndarray  # (n_items,)
    most_liked: int  # item index


def make_world(seed: int = 0) -> World:
    rng = np.random.default_rng(seed)
    item_cluster = np.repeat(np.arange(CLUSTERS), ITEMS_PER)
    centroids = rng.normal(size=(CLUSTERS, DIM))
    vectors = centroids[item_cluster] + 0.1 * rng.normal(size=(len(item_cluster), DIM))
    vocab = IdVocab.from_ids(np.arange(len(item_cluster)) + 100)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows, held, clusters = [], [], []
    for c in range(CLUSTERS):
        items = np.flatnonzero(item_cluster == c)
        for j in range(USERS_PER[c]):
            user = 1000 * (c + 1) + j
            skip = items[1 + j % (ITEMS_PER - 1)]  # item 0 of a cluster is never skipped
            liked = rng.permutation([i for i in items if i != skip])
            rows += [(user, int(vocab.ids[i]), t0 + timedelta(hours=t, minutes=j))
                     for t, i in enumerate(liked)]  # fmt: skip
            held.append(skip)
            clusters.append(c)
    frame = views_frame(rows)
    user_ids = np.unique(frame["user_id"].to_numpy())  # sorted like user 1000c+j above
    u = np.searchsorted(user_ids, frame["user_id"].to_numpy())
    i = vocab.index(frame["item_id"].to_numpy())
    hist = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=(len(user_ids), len(vocab)))
    counts = np.asarray(hist.sum(0)).ravel()
    return World(frame, vocab, vectors.astype(np.float32), user_ids, hist, np.asarray(held),
                 np.asarray(clusters), item_cluster, int(counts.argmax()))  # fmt: skip


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny tensors: thread hand-off costs more than it saves on a shared 2-core box."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fit(name: str, world: World) -> Recommender:
    cls = RECOMMENDERS.get(name)
    params = dict(PARAMS.get(name, {}))
    if "vectors" in inspect.signature(cls.fit).parameters:  # content models: the world's vectors
        params["vectors"] = world.vectors
    return cls.fit(world.interactions, world.item_vocab, **params)


@pytest.fixture(scope="module", params=RECOMMENDERS.names())
def model(request, world) -> Recommender:
    """Each registered recommender, fitted once on the world."""
    return fit(request.param, world)


def user_index(model: Recommender, world: World) -> np.ndarray:
    return model.user_vocab.index(world.user_ids)  # -1 where the model keeps no users


class RecommenderContract:
    """What every ``Recommender`` must do; subclasses provide the ``model`` fixture."""

    def test_registered_under_its_name(self, model):
        assert RECOMMENDERS.get(model.name) is type(model)

    def test_known_answer(self, model, world):
        scores = model.score(user_index(model, world), world.histories)
        if model.name == "popularity":
            assert (top_k(scores, 1)[:, 0] == world.most_liked).all()
            return
        top = top_k(scores, K, world.histories)
        assert (top == world.held_out[:, None]).any(1).all()

    def test_score_shape_and_exclusion(self, model, world):
        scores = model.score(user_index(model, world), world.histories)
        assert scores.shape == (len(world.user_ids), len(world.item_vocab))
        assert np.isfinite(scores).all()
        top = top_k(scores, 10, world.histories)  # 10 < unseen items of every user
        seen = np.take_along_axis(world.histories.toarray() > 0, top, 1)
        assert not seen.any()

    def test_save_load_round_trip(self, model, world, tmp_path):
        model.save(tmp_path / "m")
        back = load_recommender(tmp_path / "m")
        assert type(back) is type(model)
        users = user_index(model, world)
        np.testing.assert_allclose(
            back.score(users, world.histories),
            model.score(users, world.histories),
            rtol=1e-5,
            atol=1e-6,
        )

    def test_unknown_user_gets_finite_scores(self, model, world):
        liked = np.flatnonzero(world.item_cluster == 2)[:3]
        hist = sp.csr_matrix(
            (np.ones(len(liked)), (np.zeros(len(liked), int), liked)),
            shape=(1, len(world.item_vocab)),
        )
        scores = model.score(np.array([-1]), hist)
        assert scores.shape == (1, len(world.item_vocab))
        assert np.isfinite(scores).all()


class TestEveryRecommender(RecommenderContract):
    pass
