"""Feature store on real LanceDB files in tmp_path: writes, lookups, versions, lineage, PIT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from features.store import FeatureStore
from features.store.pit import features_as_of

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def write(
    store, ids, vectors, version="v1", hashes=None, job="j1", at=T0, modality="text", valid=None
):
    return store.write(
        "item",
        modality,
        ids,
        vectors,
        encoder="enc",
        encoder_version=version,
        content_hashes=hashes or [f"h{i}" for i in ids],
        job_id=job,
        created_at=at,
        valid_from=valid,
    )


@pytest.fixture
def store(tmp_path):
    return FeatureStore(str(tmp_path / "lancedb"))


def test_write_get_and_vectors(store):
    rng = np.random.default_rng(0)
    vecs = unit(rng.normal(size=(5, 8)))
    assert write(store, [5, 1, 3, 2, 4], vecs) == 5
    store.index_ids("item", "text")
    got = store.get("item", [3, 5, 99], ["text", "image"])
    ids, found = got["text"]
    assert ids.tolist() == [3, 5]  # unknown id 99 simply absent
    np.testing.assert_allclose(found, vecs[[2, 0]])
    assert got["image"][0].size == 0  # no table yet: empty, not an error
    all_ids, all_vecs = store.vectors("item", "text")
    assert all_ids.tolist() == [1, 2, 3, 4, 5] and all_vecs.dtype == np.float32
    # Same key again (a re-run after a crash): nothing inserted, no duplicates.
    assert write(store, [5, 1], vecs[:2]) == 0
    assert store.read("item_text").height == 5


def test_dim_mismatch_is_a_clear_error(store):
    write(store, [1], unit(np.ones((1, 4))))
    with pytest.raises(ValueError, match="4-d vectors .* gives 3-d"):
        write(store, [1], unit(np.ones((1, 3))), version="v2")


def test_lineage_across_encoder_versions_and_time_travel(store):
    old = unit(np.eye(4)[:3] + 0.1)
    new = unit(np.eye(4)[1:] + 0.2)
    write(store, [1, 2, 3], old, version="v1", at=T0)
    write(store, [1, 2, 3], new, version="v2", job="j2", at=T0 + timedelta(days=1))
    np.testing.assert_allclose(store.vectors("item", "text")[1], new)  # default = newest
    np.testing.assert_allclose(store.vectors("item", "text", encoder_version="v1")[1], old)
    _, v1 = store.get("item", [2], ["text"], encoder_version="v1")["text"]
    np.testing.assert_allclose(v1, old[[1]])
    info = store.versions("item_text")
    assert [e["encoder_version"] for e in info["encoder_versions"]] == ["v1", "v2"]
    numbers = [v["version"] for v in info["table_versions"]]
    assert len(numbers) >= 2
    first = store.read_version("item_text", numbers[0])
    assert set(first["encoder_version"]) == {"v1"} and first.height == 3


def test_changed_content_keeps_history_and_latest_wins(store):
    write(store, [1], unit(np.ones((1, 4))), hashes=["a"], at=T0)
    changed = unit(np.arange(1, 5, dtype=np.float32)[None])
    write(store, [1], changed, hashes=["b"], job="j2", at=T0 + timedelta(hours=1))
    assert store.latest_hashes("item", "text", "v1") == {1: "b"}
    np.testing.assert_allclose(store.get("item", [1], ["text"])["text"][1], changed)
    assert store.read("item_text").height == 2  # the old row is still there


def test_training_frame_is_point_in_time(store):
    as_of = T0 + timedelta(days=10)
    before, after = unit(np.ones((1, 4))), unit(np.arange(1, 5, dtype=np.float32)[None])
    write(store, [1], before, hashes=["a"], at=T0)
    write(store, [1], after, hashes=["b"], job="j2", at=as_of + timedelta(seconds=1))
    write(store, [2], before, hashes=["c"], at=as_of + timedelta(days=1))  # born after as_of
    ts = [T0 + timedelta(days=d) for d in (1, 10, 11, 2)]
    interactions = pl.DataFrame(
        {"user_id": [7, 7, 7, 8], "item_id": [1, 2, 1, 2], "timestamp": ts},
        schema={"user_id": pl.Int64, "item_id": pl.Int64, "timestamp": pl.Datetime("us", "UTC")},
    )
    frame = store.training_frame(interactions, as_of)
    assert frame["timestamp"].max() <= as_of  # the day-11 interaction is gone
    assert frame.height == 3
    assert (frame["item_text_created_at"].drop_nulls() <= as_of).all()
    assert frame["item_text_valid_from"].null_count() == frame.height  # no dated input
    row1 = frame.filter(pl.col("item_id") == 1)
    np.testing.assert_allclose(np.stack(row1["item_text"].to_list())[0], before[0])
    assert frame.filter(pl.col("item_id") == 2)["item_text"].null_count() == 2
    with pytest.raises(KeyError, match="item_image"):
        store.training_frame(interactions, as_of, item_modalities=["image"])


def test_features_as_of_chooses_by_event_time_and_guards_write_time(store):
    as_of = T0 + timedelta(days=10)
    base, full, later = np.eye(3, dtype=np.float32)[:, None]  # three (1, 3) vectors
    tagged = T0 - timedelta(days=5)
    # item 1: full text (tags from `tagged`), then its base text written after it
    write(store, [1], full, hashes=["full"], at=T0, valid=[tagged])
    write(store, [1], base, hashes=["base"], job="j2", at=T0 + timedelta(days=1))
    # item 2: base text, and a full text whose tag is dated after as_of (a backfilled row
    # stamped with an early write time: only event time can keep it out)
    write(store, [2], base, hashes=["base2"], at=T0)
    write(store, [2], later, hashes=["full2"], job="j2", at=T0, valid=[as_of + timedelta(1)])
    # item 3: undated, but written after as_of: the write-time guard keeps it out
    write(store, [3], full, hashes=["h3"], job="j3", at=as_of + timedelta(seconds=1))
    frame = features_as_of(store, "item", "text", as_of)
    assert frame["id"].to_list() == [1, 2]
    np.testing.assert_allclose(np.stack(frame["vector"].to_list()), [full[0], base[0]])
    assert frame["valid_from"].to_list() == [tagged, None]
    # now: the newest event time wins over the later-written base row
    np.testing.assert_allclose(store.get("item", [1], ["text"])["text"][1], full)


def test_errors_and_jobs_tables(store):
    store.record_errors("j1", "item", "image", {4: "file not found: x.jpg"})
    store.log_job("j1", "embed", "done", T0, {"image": {"failed": 1}})
    errors = store.errors("j1")
    assert errors.select("id", "reason").rows() == [(4, "file not found: x.jpg")]
    assert store.jobs()["status"].to_list() == ["done"]
