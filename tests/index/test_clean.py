"""drop_bad_rows: what `recsys index` runs before building, so one bad row cannot fail it."""

from __future__ import annotations

import numpy as np

from index.base import create_index
from index.clean import drop_bad_rows


def test_drops_non_finite_and_repeated_rows_and_names_them():
    ids = np.array([7, 3, 3, 9, 5, 8], np.int64)
    vectors = np.arange(12, dtype=np.float32).reshape(6, 2)
    vectors[3, 1] = np.inf
    vectors[4, 0] = np.nan

    kept_ids, kept, skipped = drop_bad_rows(ids, vectors)

    assert kept_ids.tolist() == [7, 3, 8] and kept_ids.dtype == np.int64  # first 3 kept
    np.testing.assert_array_equal(kept, vectors[[0, 1, 5]])
    assert skipped == {"non_finite": [9, 5], "duplicate": [3]}
    create_index("faiss-flat").build(kept_ids, kept)  # what build refuses is gone


def test_clean_input_passes_through():
    ids = np.array([2, 1], np.int64)
    vectors = np.eye(2, dtype=np.float32)
    kept_ids, kept, skipped = drop_bad_rows(ids, vectors)
    assert kept_ids.tolist() == [2, 1]
    np.testing.assert_array_equal(kept, vectors)
    assert skipped == {"non_finite": [], "duplicate": []}
