"""Popularity and item-kNN: known answers on tiny block-structured data, save/load round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from recsys.core.interactions import IdVocab, positive_matrix, signal_matrix
from recsys.models.als import ALS
from recsys.models.ease import EASE
from recsys.models.itemknn import ItemKNN
from recsys.models.popularity import Popularity, popularity_scores


def _block_data() -> pl.DataFrame:
    # Users 0-4 watch items 0-2, users 5-9 watch items 3-5; item 0 is the most watched.
    rows = []
    for u in range(10):
        block = [0, 1, 2] if u < 5 else [3, 4, 5]
        rows += [(u, i) for i in block]
    rows += [(u, 0) for u in range(5, 8)]
    ts = datetime(2024, 1, 1, tzinfo=UTC)
    return pl.DataFrame(rows, schema=["user_id", "item_id"], orient="row").with_columns(
        pl.lit(ts).alias("timestamp"),
        pl.lit(None, pl.Float32).alias("rating"),
        pl.lit(None, pl.Float32).alias("watch_fraction"),
    )


def test_popularity_ranks_most_watched_first(tmp_path):
    vocab = IdVocab.from_ids(range(6))
    model = Popularity.fit(_block_data(), vocab)
    scores = model.score(np.array([0]), vocab_history(vocab, []))
    assert int(np.argmax(scores[0])) == 0
    model.save(tmp_path / "pop")
    np.testing.assert_array_equal(Popularity.load(tmp_path / "pop").counts, model.counts)


def test_itemknn_recommends_from_the_same_block(tmp_path):
    vocab = IdVocab.from_ids(range(6))
    model = ItemKNN.fit(_block_data(), vocab, neighbours=3, shrink=0.0)
    scores = model.score(np.array([-1]), vocab_history(vocab, [4]))[0]
    scores[4] = -np.inf
    assert int(np.argmax(scores)) in {3, 5}
    model.save(tmp_path / "knn")
    again = ItemKNN.load(tmp_path / "knn")
    np.testing.assert_allclose(again.similarity.toarray(), model.similarity.toarray())


def test_signal_all_counts_dislikes_liked_does_not(make_frame):
    # user 1 rated item 11 one star (a dislike) and only that; user 2 liked items 10 and 11
    frame = make_frame([(1, 10, 0, 5.0), (1, 11, 1, 1.0), (2, 10, 0, None), (2, 11, 1, 4.0)])
    vocab = IdVocab.from_ids([10, 11, 12])
    users, liked = signal_matrix(frame, vocab, "liked")
    np.testing.assert_array_equal(users.ids, [1, 2])
    np.testing.assert_array_equal(liked.toarray(), [[1, 0, 0], [1, 1, 0]])
    users, every = signal_matrix(frame, vocab, "all")
    np.testing.assert_array_equal(users.ids, [1, 2])
    np.testing.assert_array_equal(every.toarray(), [[1, 1, 0], [1, 1, 0]])
    # "liked" is exactly today's positive matrix; a dislike-only user exists under "all" only
    only_dislike = make_frame([(3, 12, 0, 1.0)])
    assert len(signal_matrix(only_dislike, vocab, "liked")[0]) == 0
    assert signal_matrix(only_dislike, vocab, "all")[1].toarray().tolist() == [[0, 0, 1]]
    np.testing.assert_array_equal(positive_matrix(frame, vocab)[1].toarray(), liked.toarray())
    with pytest.raises(ValueError, match="unknown signal"):
        signal_matrix(frame, vocab, "ratings")


def test_models_fit_on_either_signal(make_frame):
    # every user disliked item 12 after liking 10 and 11: only "all" makes 12 co-occur with them
    ratings = [(10, 5.0), (11, 5.0), (12, 1.0)]
    frame = make_frame([(u, i, day, r) for u in range(6) for day, (i, r) in enumerate(ratings)])
    vocab = IdVocab.from_ids([10, 11, 12])
    history = vocab_history(vocab, [10])
    for fit in (
        lambda s: EASE.fit(frame, vocab, lam=1.0, signal=s),
        lambda s: ItemKNN.fit(frame, vocab, neighbours=2, shrink=0.0, signal=s),
    ):
        liked = fit("liked").score(np.array([-1]), history)[0]
        every = fit("all").score(np.array([-1]), history)[0]
        assert liked[2] == 0.0 and every[2] > 0.0
    als = ALS.fit(frame, vocab, factors=2, iterations=3, alpha=1.0, signal="all")
    assert als.alpha == 1.0 and len(als.user_vocab) == 6


def test_popularity_ties_broken_by_seed_never_across_counts():
    # items 3..7 have no positives (tied at count 0), items 0..2 have distinct counts
    counts = np.array([5.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    orders = {}
    for seed in range(6):
        scores = popularity_scores(counts, seed)
        order = np.argsort(-scores, kind="stable")
        assert order[:3].tolist() == [0, 2, 1]  # different counts keep their order
        assert len(np.unique(scores)) == len(counts)  # every tie broken
        np.testing.assert_array_equal(scores, popularity_scores(counts, seed))  # same seed
        orders[seed] = tuple(order[3:])
    assert len(set(orders.values())) > 1  # the seed, not the index, orders tied items
    # gaps far below 1e-3 (huge counts) are still never crossed
    big = np.array([1e6, 1e6 - 1, 1e6 - 1, 0.0])
    for seed in range(20):
        s = popularity_scores(big, seed)
        assert s[0] > s[1] and s[0] > s[2] and min(s[1], s[2]) > s[3]


def test_popularity_seed_round_trips_and_old_models_load(tmp_path):
    vocab = IdVocab.from_ids(range(8))  # items 6 and 7 never watched: a tie
    a, b = Popularity.fit(_block_data(), vocab, seed=1), Popularity.fit(_block_data(), vocab)
    np.testing.assert_array_equal(a.counts, b.counts)  # counts stay raw: serving reads them
    assert a.counts[6] == a.counts[7] == 0 and a.scores[6] != a.scores[7]
    a.save(tmp_path / "pop")
    again = Popularity.load(tmp_path / "pop")
    assert again.seed == 1
    np.testing.assert_array_equal(again.scores, a.scores)
    manifest = tmp_path / "pop" / "manifest.json"
    old = {k: v for k, v in json.loads(manifest.read_text()).items() if k != "seed"}
    manifest.write_text(json.dumps(old))  # saved before the tie-break existed
    np.testing.assert_array_equal(Popularity.load(tmp_path / "pop").scores, b.scores)


def vocab_history(vocab: IdVocab, item_ids: list[int]):
    import scipy.sparse as sp

    cols = vocab.index(item_ids)
    return sp.csr_matrix(
        (np.ones(len(cols)), (np.zeros(len(cols), int), cols)), shape=(1, len(vocab))
    )


def test_ease_score_items_equals_the_batch_score(interactions):
    import scipy.sparse as sp

    vocab = IdVocab.from_ids(interactions["item_id"])
    model = EASE.fit(interactions, vocab, lam=10.0)
    history = np.asarray([0, 3, 3, 7])
    row = sp.csr_matrix((np.ones(3), ([0, 0, 0], [0, 3, 7])), shape=(1, len(vocab)))
    np.testing.assert_allclose(
        model.score_items(history), model.score(np.zeros(1, np.int64), row)[0], atol=1e-5
    )
    assert not model.score_items(np.zeros(0, np.int64)).any()
