"""A partial encoder version never replaces a complete one (issue 11, item 6).

Store level on real LanceDB in tmp_path, then the embed job interrupted under a new encoder
version and re-run.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import numpy as np
import polars as pl
import pytest

from features.encoders.base import Encoder, l2_normalize
from features.jobs import EmbedConfig
from features.jobs.embed import run_embed
from features.store import COMPLETIONS_TABLE, FeatureStore
from recsys.core.catalog import Catalog
from recsys.core.interactions import IdVocab
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
from recsys.core.workspace import Workspace

T0 = datetime(2025, 1, 1, tzinfo=UTC)
IDS = list(range(1, 11))


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def write(store: FeatureStore, ids, vectors, version: str, at: datetime) -> None:
    store.write("item", "text", ids, vectors, encoder="enc", encoder_version=version,
                content_hashes=[f"{version}-{i}" for i in ids], job_id=f"job-{version}",
                created_at=at)  # fmt: skip


@pytest.fixture
def store(tmp_path) -> FeatureStore:
    return FeatureStore(str(tmp_path / "lancedb"))


def test_half_written_new_version_is_not_read_until_marked_complete(store):
    rng = np.random.default_rng(0)
    old, new = unit(rng.normal(size=(10, 4))), unit(rng.normal(size=(5, 4)))
    write(store, IDS, old, "v1", T0)
    store.mark_complete("item", "text", "v1", "job-v1")
    assert store.latest_encoder_version("item", "text") == "v1"  # fills the cache
    write(store, IDS[:5], new, "v2", T0 + timedelta(days=1))  # a re-embed, half done

    assert store.latest_encoder_version("item", "text") == "v1"
    ids, vectors = store.vectors("item", "text")
    assert ids.tolist() == IDS
    np.testing.assert_allclose(vectors, old)
    found = store.aligned("item", "text", IdVocab(np.asarray(IDS)))
    assert found is not None and found.encoder_version == "v1" and found.present.all()
    np.testing.assert_allclose(store.get("item", [2, 9], ["text"])["text"][1], old[[1, 8]])
    assert store.rows("item", "text")["encoder_version"].unique().to_list() == ["v1"]

    # The same store object (its cache keyed on the table version, which a completion does
    # not change) sees the completion: v2 is what every default read returns now.
    assert store.mark_complete("item", "text", "v2", "job-v2")
    assert store.latest_encoder_version("item", "text") == "v2"
    ids, vectors = store.vectors("item", "text")
    assert ids.tolist() == IDS[:5]
    np.testing.assert_allclose(vectors, new)
    np.testing.assert_allclose(store.get("item", [2], ["text"])["text"][1], new[[1]])
    found = store.aligned("item", "text", IdVocab(np.asarray(IDS)))
    assert found is not None and found.encoder_version == "v2" and found.present.sum() == 5
    # An explicit version still reads what it names.
    np.testing.assert_allclose(store.vectors("item", "text", encoder_version="v1")[1], old)


def test_without_a_held_completion_reads_fall_back_to_the_newest_written(store):
    write(store, IDS, unit(np.ones((10, 4))), "v1", T0)
    write(store, IDS[:3], unit(np.eye(4)[:3] + 0.1), "v2", T0 + timedelta(days=1))
    assert store.latest_encoder_version("item", "text") == "v2"  # no record: as before
    # A completion of a version the table no longer holds (a fused table rewritten at a new
    # width) must not leave reads with nothing.
    store.mark_complete("item", "text", "v0", "job-v0")
    assert store.latest_encoder_version("item", "text") == "v2"
    assert store.vectors("item", "text")[0].tolist() == IDS[:3]
    # A completion belongs to its own table only.
    store.mark_complete("item", "image", "v1", "job-img")
    assert store.latest_encoder_version("item", "text") == "v2"


def test_completions_are_logged_once_per_change_and_are_not_feature_tables(store):
    write(store, IDS, unit(np.ones((10, 4))), "v1", T0)
    assert store.mark_complete("item", "text", "v1", "job-1")
    assert not store.mark_complete("item", "text", "v1", "job-2")  # an incremental re-run
    write(store, IDS, unit(np.ones((10, 4)) + np.eye(10, 4)), "v2", T0 + timedelta(days=1))
    assert store.mark_complete("item", "text", "v2", "job-3")
    assert store.mark_complete("item", "text", "v1", "job-4")  # back to v1: v1 is read again
    assert store.complete_versions("item", "text") == ["v1", "v2"]
    assert store.latest_encoder_version("item", "text") == "v1"
    assert store.completions()["job_id"].to_list() == ["job-1", "job-3", "job-4"]
    assert store.table_names() == ["item_text"]  # `recsys status` lists feature tables only
    assert COMPLETIONS_TABLE in store.db.list_tables().tables


# ------------------------------------------------------------------------ the embed job
class HashTextEncoder(Encoder):
    """Test double: a hash of the text, under a chosen version, that crashes on batch N.

    Why a double: the test needs two encoder versions of one modality and a crash in the
    middle of a chosen chunk; a real model has one version and does not fail on demand.
    """

    name: ClassVar[str] = "test-hash-text"
    modality: ClassVar[str] = "text"
    dim = 8

    def __init__(self, version: str, crash_on: int | None = None):
        self._version, self.crash_on, self.calls = version, crash_on, 0

    @property
    def version(self) -> str:
        return self._version

    def encode(self, inputs):
        self.calls += 1
        if self.crash_on is not None and self.calls >= self.crash_on:
            raise RuntimeError("simulated crash")
        seeds = [int(hashlib.sha256(f"{self._version}:{t}".encode()).hexdigest()[:8], 16)
                 for t in inputs]  # fmt: skip
        rows = [np.random.default_rng(s).normal(size=8) for s in seeds]
        return l2_normalize(np.asarray(rows, np.float32).reshape(-1, 8))


def text_workspace(root) -> Workspace:
    """10 items with titles and descriptions (no media, no interactions): text only."""
    ws = Workspace(root / "ws").ensure()
    items = pl.DataFrame(
        {
            "item_id": IDS,
            "title": [f"Movie {i}" for i in IDS],
            "description": [f"A story about hero {i}." for i in IDS],
            "genres": [["drama"]] * len(IDS),
            "tags": [[]] * len(IDS),
            "year": [2000 + i for i in IDS],
            "poster_path": [None] * len(IDS),
            "trailer_path": [None] * len(IDS),
        },
        schema=ITEMS_SCHEMA,
    )
    users = pl.DataFrame({"user_id": [1], "created_at": [T0]}, schema=USERS_SCHEMA)
    Catalog(items, users, pl.DataFrame(schema=INTERACTIONS_SCHEMA)).save(ws.data_dir)
    return ws


def test_interrupted_reembed_keeps_the_old_version_until_the_rerun_completes(tmp_path):
    ws = text_workspace(tmp_path)
    config = EmbedConfig(batch_size=2, chunk_size=2)  # 5 chunks of 2 items
    run_embed(ws, ["text"], config=config, encoders={"text": HashTextEncoder("v1")},
              progress=False)  # fmt: skip
    store = FeatureStore(ws.lancedb_uri)
    ids, old = store.vectors("item", "text")
    _, old_fused = store.vectors("item", "fused")
    assert ids.tolist() == IDS

    with pytest.raises(RuntimeError, match="simulated crash"):
        run_embed(ws, ["text"], config=config, progress=False,
                  encoders={"text": HashTextEncoder("v2", crash_on=3)})  # fmt: skip
    rows = store.read("item_text")
    assert rows.filter(pl.col("encoder_version") == "v2").height == 4  # two chunks committed
    assert store.latest_encoder_version("item", "text") == "v1"
    ids, vectors = store.vectors("item", "text")
    assert ids.tolist() == IDS  # no item lost its text vector
    np.testing.assert_allclose(vectors, old)
    np.testing.assert_allclose(store.vectors("item", "fused")[1], old_fused)

    run_embed(ws, ["text"], config=config, encoders={"text": HashTextEncoder("v2")},
              progress=False)  # fmt: skip
    assert store.latest_encoder_version("item", "text") == "v2"
    ids, vectors = store.vectors("item", "text")
    assert ids.tolist() == IDS
    assert not np.allclose(vectors, old)
    rows = store.read("item_text")
    key = ["id", "encoder_version", "content_hash"]
    assert rows.height == rows.unique(key).height == 20  # v1 and v2 once each per item
    fused = store.rows("item", "fused")
    assert fused.height == 10 and '"text": "v2"' in fused["lineage"][0]  # re-fused from v2


def test_completing_a_version_without_writing_still_gives_the_table_a_new_version(tmp_path):
    # A kill after the last chunk's commit but before the completion record: the re-run has
    # nothing to write, yet its record changes what default reads return, and readers that
    # cache aligned vectors by table version (serving's hot reload) must see a new version.
    ws = text_workspace(tmp_path)
    config = EmbedConfig(batch_size=4, chunk_size=4, fuse=False)
    run_embed(ws, ["text"], config=config, encoders={"text": HashTextEncoder("v1")},
              progress=False)  # fmt: skip
    run_embed(ws, ["text"], config=config, encoders={"text": HashTextEncoder("v2")},
              progress=False)  # fmt: skip
    store = FeatureStore(ws.lancedb_uri)
    store.db.open_table(COMPLETIONS_TABLE).delete("encoder_version = 'v2'")  # the lost record
    vocab = IdVocab(np.asarray(IDS))
    before = store.aligned("item", "text", vocab)
    assert before is not None and before.encoder_version == "v1"

    run_embed(ws, ["text"], config=config, encoders={"text": HashTextEncoder("v2")},
              progress=False)  # fmt: skip

    after = store.aligned("item", "text", vocab)
    assert after is not None and after.encoder_version == "v2" and after.present.all()
    assert after.table_version > before.table_version
    assert store.read("item_text").height == 20  # nothing re-written
