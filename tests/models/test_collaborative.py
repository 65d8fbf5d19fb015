"""Popularity and item-kNN: known answers on tiny block-structured data, save/load round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from recsys.core.interactions import IdVocab
from recsys.models.itemknn import ItemKNN
from recsys.models.popularity import Popularity


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


def vocab_history(vocab: IdVocab, item_ids: list[int]):
    import scipy.sparse as sp

    cols = vocab.index(item_ids)
    return sp.csr_matrix(
        (np.ones(len(cols)), (np.zeros(len(cols), int), cols)), shape=(1, len(vocab))
    )
