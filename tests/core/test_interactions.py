"""Id vocabularies, implicit weights and the shared top-k helper."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.interactions import IdVocab, positives, user_item_matrix
from recsys.models.base import top_k


def _interactions(rows):
    return pl.DataFrame(
        rows, schema=["user_id", "item_id", "rating", "watch_fraction"], orient="row"
    ).with_columns(pl.lit(datetime(2024, 1, 1, tzinfo=UTC)).alias("timestamp"))


def test_vocab_maps_known_ids_and_flags_unknown():
    vocab = IdVocab.from_ids([30, 10, 20, 10])
    assert vocab.ids.tolist() == [10, 20, 30]
    assert vocab.index([20, 99, 10]).tolist() == [1, -1, 0]
    assert IdVocab.from_ids([]).index([5]).tolist() == [-1]


def test_low_ratings_and_abandoned_views_are_not_positives():
    df = _interactions([(1, 1, 5.0, None), (1, 2, 1.0, None), (1, 3, None, 0.9), (1, 4, None, 0.1)])
    liked = positives(df).sort("item_id")
    assert liked["item_id"].to_list() == [1, 3]


def test_user_item_matrix_skips_unknown_ids():
    pairs = pl.DataFrame({"user_id": [1, 2, 9], "item_id": [10, 20, 10], "weight": [1.0, 2.0, 3.0]})
    m = user_item_matrix(pairs, IdVocab.from_ids([1, 2]), IdVocab.from_ids([10, 20]))
    assert m.toarray().tolist() == [[1.0, 0.0], [0.0, 2.0]]


def test_top_k_orders_and_excludes():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]], np.float32)
    exclude = sp.csr_matrix(np.array([[0, 1, 0, 0]]))
    assert top_k(scores, 2, exclude).tolist() == [[3, 2]]
    assert top_k(scores, 10).shape == (1, 4)


def test_one_like_rule_for_frames_and_single_events():
    """``positives`` (training, eval) and ``is_like`` (live events) are the same function."""
    import itertools

    import polars as pl

    from recsys.core.interactions import is_like, positives
    from recsys.core.schemas import INTERACTIONS_SCHEMA

    ratings = [None, 0.5, 3.0, 3.5, 5.0]
    fractions = [None, 0.0, 0.1, 0.29, 0.3, 1.0]
    for i, (rating, fraction) in enumerate(itertools.product(ratings, fractions)):
        row = {k: None for k in INTERACTIONS_SCHEMA}
        row.update(user_id=1, item_id=i, kind="view", rating=rating, watch_fraction=fraction)
        frame = pl.DataFrame([row], schema=INTERACTIONS_SCHEMA)
        assert positives(frame).height == int(is_like(rating, fraction)), (rating, fraction)
    assert not is_like(None, 0.1) and is_like(None, None) and is_like(None, 0.3)
    assert not is_like(3.0, 1.0) and is_like(3.5, 0.0)
