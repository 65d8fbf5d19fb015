"""Reading vector tables: the newest encoder version and newest row per id, or plain tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from recsys.app.item_vectors import newest_vectors


def test_append_only_feature_table_uses_newest_version_newest_row():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [  # (id, encoder_version, created_at, vector)
        (1, "v1", t0, [1.0, 0.0]),
        (2, "v1", t0, [0.0, 1.0]),
        (1, "v2", t0 + timedelta(1), [0.5, 0.5]),
        (2, "v2", t0 + timedelta(1), [0.2, 0.8]),
        (1, "v2", t0 + timedelta(2), [0.9, 0.1]),  # item 1 re-embedded: newest wins
    ]
    table = pa.table(
        {
            "id": pa.array([r[0] for r in rows], pa.int64()),
            "encoder_version": [r[1] for r in rows],
            "created_at": [r[2] for r in rows],
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array([x for r in rows for x in r[3]], pa.float32()), 2
            ),
        }
    )
    ids, got, version = newest_vectors(table)
    assert ids.tolist() == [1, 2] and version == "v2"
    assert np.allclose(got, [[0.9, 0.1], [0.2, 0.8]])


def test_plain_table_keeps_the_last_row_per_id_sorted_by_id():
    table = pa.table(
        {
            "id": pa.array([5, 3, 5], pa.int64()),
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array([1.0, 0.0, 0.0, 1.0, 0.6, 0.8], pa.float32()), 2
            ),
        }
    )
    ids, vectors, version = newest_vectors(table)
    assert ids.tolist() == [3, 5] and version is None
    assert np.allclose(vectors, [[0.0, 1.0], [0.6, 0.8]])
