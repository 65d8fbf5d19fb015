"""Fitted models -> plain arrays -> candidate sources: the wiring a caller above index does.

index never imports recsys.models; whoever loads a run hands each source the arrays (or a
scoring function) it needs. Here every source must rank exactly as the model it came from.
"""

from __future__ import annotations

import numpy as np
import polars as pl
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
    ScoreSource,
)
from recsys.core.interactions import IdVocab
from recsys.models.base import Recommender, top_k
from recsys.models.ease import EASE
from recsys.models.itemknn import ItemKNN
from recsys.models.popularity import Popularity
from tests.worlds import clustered_unit_vectors


def history_row(positions: np.ndarray, n_items: int) -> sp.csr_matrix:
    """One user's history as the (1, n_items) matrix a model's ``score`` takes."""
    ones = np.ones(len(positions), np.float32)
    return sp.csr_matrix((ones, (np.zeros(len(positions), int), positions)), (1, n_items))


def model_source(name: str, model: Recommender) -> ScoreSource:
    """Any recommender as a candidate source: its scores for the request's history."""
    n = len(model.item_vocab)

    def scores(positions: np.ndarray) -> np.ndarray:
        return model.score(np.zeros(1, np.int64), history_row(positions, n))[0]

    return ScoreSource(name, model.item_vocab.ids, scores)


@pytest.fixture(scope="module")
def fitted(interactions):
    vocab = IdVocab.from_ids(interactions["item_id"])
    return {
        "popularity": Popularity.fit(interactions, vocab),
        "itemknn": ItemKNN.fit(interactions, vocab, neighbours=10),
        "ease": EASE.fit(interactions, vocab, lam=10.0),
    }


@pytest.fixture(scope="module")
def user(interactions):
    """A user with a few items seen (excluded) and a full catalog left to rank."""
    seen = interactions.filter(pl.col("user_id") == 3)["item_id"].unique().sort().to_numpy()
    return CandidateRequest(history=seen, exclude=seen)


def model_scores(model: Recommender, request: CandidateRequest) -> np.ndarray:
    """The model's scores (n_items,) for the request's history."""
    vocab = model.item_vocab
    return model.score(
        np.zeros(1, np.int64), history_row(vocab.index(request.history), len(vocab))
    )[0]


def model_ranking(model: Recommender, request: CandidateRequest, k: int) -> list[int]:
    """The model's own top-``k`` for the request, seen items excluded."""
    vocab = model.item_vocab
    row = history_row(vocab.index(request.history), len(vocab))
    return vocab.ids[top_k(model_scores(model, request)[None], k, exclude=row)[0]].tolist()


# how a caller turns each fitted model into a source (arrays in, no model type inside index)
AS_SOURCE = {
    "popularity": lambda m: PopularitySource(m.item_vocab.ids, m.scores),
    "itemknn": lambda m: ItemItemSource(m.item_vocab.ids, m.similarity),
    "ease": lambda m: model_source("ease", m),
}


@pytest.mark.parametrize("name", sorted(AS_SOURCE))
def test_each_source_ranks_like_its_model(fitted, user, name):
    model = fitted[name]
    got = AS_SOURCE[name](model).generate(user, k=5)
    assert got.source == name and len(got) == 5
    # same scores, best first, as the model's own top 5 (tied items may swap places)
    scores = model_scores(model, user)
    best = model.item_vocab.index(model_ranking(model, user, 5))
    np.testing.assert_allclose(got.scores, scores[best], rtol=1e-6)
    np.testing.assert_allclose(scores[model.item_vocab.index(got.ids)], got.scores, rtol=1e-6)
    assert not set(got.ids.tolist()) & set(user.exclude.tolist())


def test_generator_over_model_sources_and_an_index(fitted, user):
    vocab = fitted["ease"].item_vocab
    index = create_index("faiss-flat").build(vocab.ids, clustered_unit_vectors(len(vocab), 16))
    sources = [AnnSource(index)] + [AS_SOURCE[name](fitted[name]) for name in sorted(fitted)]
    quotas = {"ease": 3, "ann": 3, "itemknn": 3, "popularity": 3}
    got = CandidateGenerator(sources, CandidateConfig(quotas=quotas)).generate(user)

    ids = [c.item_id for c in got]
    assert len(ids) == 12  # the catalog has enough unseen items for every quota
    assert not set(ids) & set(user.exclude.tolist())
    assert ids[:3] == model_ranking(fitted["ease"], user, 3)  # first source, first picks
    assert [c.source for c in got] == [n for n in quotas for _ in range(3)]
