"""``FeatureStore.aligned`` on real LanceDB files: the one "newest vector per id aligned to a
vocabulary" read, and the row choice that ``rows``/``vectors``/``get`` share with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from features.store import FeatureStore
from features.store.pit import features_as_of
from recsys.core.interactions import IdVocab

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def write(store, ids, vectors, version, at, job="j1", hashes=None, valid_from=None):
    store.write(
        "item",
        "text",
        ids,
        np.asarray(vectors, np.float32),
        encoder="enc",
        encoder_version=version,
        content_hashes=hashes or [f"{version}-{i}-{at.isoformat()}" for i in ids],
        job_id=job,
        created_at=at,
        valid_from=valid_from,
    )


@pytest.fixture
def store(tmp_path):
    """Item 1 re-embedded under v2 after the v2 run; v1 rows are older and still stored."""
    store = FeatureStore(str(tmp_path / "lancedb"))
    write(store, [1, 2, 3], [[1, 0], [0, 1], [1, 1]], "v1", T0)
    write(store, [2, 1], [[0.2, 0.8], [0.5, 0.5]], "v2", T0 + timedelta(days=1), job="j2")
    write(store, [1], [[0.9, 0.1]], "v2", T0 + timedelta(days=2), job="j3")
    return store


def test_newest_row_per_id_of_the_newest_encoder_version(store):
    vocab = IdVocab.from_ids([1, 2])
    found = store.aligned("item", "text", vocab)
    assert found is not None and found.encoder_version == "v2" and found.table == "item_text"
    np.testing.assert_allclose(found.matrix, [[0.9, 0.1], [0.2, 0.8]])
    assert found.present.tolist() == [True, True]
    assert found.table_version == store.db.open_table("item_text").version
    assert found.lineage()["rows"] == 2


def test_outside_ids_dropped_missing_ids_zero_and_absent(store):
    # item 3 has no v2 row (so is missing from v2); 7 was never embedded; 2 is not in the vocab
    vocab = IdVocab.from_ids([3, 7, 1])  # vocab order: 1, 3, 7
    found = store.aligned("item", "text", vocab)
    assert found.present.tolist() == [True, False, False]
    np.testing.assert_allclose(found.matrix, [[0.9, 0.1], [0, 0], [0, 0]])


def test_an_older_encoder_version_on_request(store):
    found = store.aligned("item", "text", IdVocab.from_ids([1, 3]), "v1")
    assert found.encoder_version == "v1" and found.present.all()
    np.testing.assert_allclose(found.matrix, [[1, 0], [1, 1]])


def test_missing_table_is_none(store):
    assert store.aligned("item", "image", IdVocab.from_ids([1])) is None


def test_plain_id_vector_table_keeps_the_last_row_per_id(store):
    plain = pa.table(
        {
            "id": pa.array([5, 3, 5], pa.int64()),
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array([1.0, 0.0, 0.0, 1.0, 0.6, 0.8], pa.float32()), 2
            ),
        }
    )
    store.db.create_table("item_fused", data=plain)  # benchmarks and tests write such tables
    found = store.aligned("item", "fused", IdVocab.from_ids([3, 5, 9]))
    assert found.encoder_version is None and found.present.tolist() == [True, True, False]
    np.testing.assert_allclose(found.matrix, [[0, 1], [0.6, 0.8], [0, 0]])
    ids, vectors = store.vectors("item", "fused")
    assert ids.tolist() == [3, 5]
    np.testing.assert_allclose(vectors, [[0, 1], [0.6, 0.8]])


def test_rows_vectors_and_get_choose_the_same_rows(store):
    vocab = IdVocab.from_ids([1, 2])
    found = store.aligned("item", "text", vocab)
    ids, vectors = store.vectors("item", "text")
    assert ids.tolist() == [1, 2]
    np.testing.assert_allclose(vectors, found.matrix)
    got_ids, got = store.get("item", [2, 1, 3], ["text"])["text"]
    assert got_ids.tolist() == [1, 2]  # item 3 has no v2 row
    np.testing.assert_allclose(got, found.matrix)
    rows = store.rows("item", "text")
    assert rows["id"].to_list() == [1, 2] and set(rows["job_id"]) == {"j2", "j3"}
    assert store.latest_hashes("item", "text", "v2") == dict(
        zip(rows["id"].to_list(), rows["content_hash"].to_list(), strict=True)
    )


# ------------------------------------------------------------------ event time (valid_from)
TAGGED = T0 - timedelta(days=30)  # when the item's newest user tag was written


@pytest.fixture
def dated(tmp_path):
    """Item 1: base text (undated) and full text (valid from TAGGED); item 2: one undated row.

    The base row is written last, as an incremental job may do: write order must not matter.
    """
    store = FeatureStore(str(tmp_path / "dated"))
    write(store, [1, 2], [[0, 1], [1, 1]], "v1", T0, "j1", ["full-1", "h-2"], [TAGGED, None])
    write(store, [1], [[1, 0]], "v1", T0 + timedelta(hours=1), "j2", ["base-1"])
    return store


def test_as_of_before_the_tag_reads_the_base_vector(dated):
    found = dated.aligned("item", "text", IdVocab.from_ids([1, 2]), as_of=TAGGED - timedelta(1))
    np.testing.assert_allclose(found.matrix, [[1, 0], [1, 1]])
    assert found.present.all() and found.lineage()["as_of"] == found.as_of.isoformat()


def test_as_of_at_or_after_the_tag_and_now_read_the_full_vector(dated):
    vocab = IdVocab.from_ids([1, 2])
    for as_of in (TAGGED, TAGGED + timedelta(days=1), None):
        found = dated.aligned("item", "text", vocab, as_of=as_of)
        np.testing.assert_allclose(found.matrix, [[0, 1], [1, 1]], err_msg=str(as_of))
    assert "as_of" not in dated.aligned("item", "text", vocab).lineage()
    # every other read of "now" makes the same choice
    np.testing.assert_allclose(dated.vectors("item", "text")[1], [[0, 1], [1, 1]])
    assert dated.latest_hashes("item", "text", "v1") == {1: "full-1", 2: "h-2"}


def test_naive_as_of_is_utc(dated):
    naive = (TAGGED - timedelta(seconds=1)).replace(tzinfo=None)
    found = dated.aligned("item", "text", IdVocab.from_ids([1]), as_of=naive)
    np.testing.assert_allclose(found.matrix, [[1, 0]])


def test_a_rewritten_row_of_the_same_event_time_replaces_the_old_one(dated):
    write(dated, [1], [[0.6, 0.8]], "v1", T0 + timedelta(days=1), "j3", ["full-1b"], [TAGGED])
    found = dated.aligned("item", "text", IdVocab.from_ids([1]))
    np.testing.assert_allclose(found.matrix, [[0.6, 0.8]])
    assert dated.slot_hashes("item", "text", "v1") == {
        (1, None): "base-1",
        (1, TAGGED): "full-1b",
        (2, None): "h-2",
    }


def test_a_table_from_before_valid_from_reads_and_takes_dated_rows(tmp_path):
    store = FeatureStore(str(tmp_path / "old"))
    old = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array([1.0, 0, 0, 1], pa.float32()), 2),
            "encoder": ["enc", "enc"],
            "encoder_version": ["v1", "v1"],
            "content_hash": ["a", "b"],
            "job_id": ["j0", "j0"],
            "created_at": pa.array([T0, T0], pa.timestamp("us", tz="UTC")),
            "lineage": pa.array([None, None], pa.string()),
        }
    )
    store.db.create_table("item_text", data=old)  # the schema before event times
    vocab = IdVocab.from_ids([1, 2])
    for as_of in (None, T0 - timedelta(days=365)):  # no valid_from = undated = always valid
        found = store.aligned("item", "text", vocab, as_of=as_of)
        np.testing.assert_allclose(found.matrix, [[1, 0], [0, 1]])
    assert store.slot_hashes("item", "text", "v1") == {(1, None): "a", (2, None): "b"}
    old_pit = features_as_of(store, "item", "text", T0)
    assert old_pit["id"].to_list() == [1, 2] and old_pit["valid_from"].null_count() == 2
    write(store, [1], [[0.6, 0.8]], "v1", T0 + timedelta(days=1), "j1", ["c"], [TAGGED])
    assert store.read("item_text")["valid_from"].to_list() == [None, None, TAGGED]
    np.testing.assert_allclose(store.aligned("item", "text", vocab).matrix, [[0.6, 0.8], [0, 1]])
    early = store.aligned("item", "text", vocab, as_of=TAGGED - timedelta(days=1))
    np.testing.assert_allclose(early.matrix, [[1, 0], [0, 1]])


@pytest.mark.parametrize("chunk", [1, 2, 3, 100])
def test_align_rows_scatters_the_chosen_rows_chunk_by_chunk(chunk):
    from features.store.aligned import align_rows

    vectors = np.arange(15, dtype=np.float32).reshape(5, 3)
    arrow = pa.table(
        {
            "id": pa.array([30, 10, 99, 20, 10], pa.int64()),  # 99: not in the vocabulary
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), 3),
        }
    )
    vocab = IdVocab.from_ids(np.asarray([10, 20, 30, 40], np.int64))
    matrix, present = align_rows(arrow, np.asarray([4, 3, 0, 2]), vocab, chunk=chunk)
    np.testing.assert_array_equal(matrix, [vectors[4], vectors[3], vectors[0], [0, 0, 0]])
    assert present.tolist() == [True, True, True, False]  # 40 has no row; 99 is dropped
    empty, none = align_rows(arrow, np.zeros(0, np.int64), vocab, chunk=chunk)
    assert empty.shape == (4, 1) and not none.any()
