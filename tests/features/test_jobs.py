"""``recsys embed`` jobs on a tiny hand-made catalog: incremental, resumable, errors, Ray.

Why doubles: the image/video encoders are heavy CNNs (and were written concurrently); these
tests check the job's plumbing (hashing, chunking, errors, resume), not the model, so a
cheap deterministic encoder with the same ``Encoder`` contract keeps them fast on shared CPUs.
Text tests use the real MiniLM model.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import numpy as np
import polars as pl
from PIL import Image

from features.encoders.base import EncodeError, Encoder, l2_normalize
from recsys.core.catalog import Catalog
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, TAG_EVENTS_SCHEMA, USERS_SCHEMA
from recsys.core.workspace import Workspace

N_ITEMS = 10


class MeanColourEncoder(Encoder):
    """Test double for an image encoder: (mean R, G, B, 1) of the file, L2-normalised."""

    name: ClassVar[str] = "test-mean-colour"
    modality: ClassVar[str] = "image"
    version = "mean-colour-v1"
    dim = 4

    def encode(self, inputs):
        out = []
        for path in inputs:
            try:
                pixels = np.asarray(Image.open(path).convert("RGB"), np.float32)
            except (OSError, ValueError) as exc:
                raise EncodeError(f"corrupt_image: {path}: {exc}") from exc
            out.append([*pixels.reshape(-1, 3).mean(0) / 255.0, 1.0])
        return l2_normalize(np.asarray(out, np.float32).reshape(-1, 4))


class HashTextEncoder(Encoder):
    """Test double for a text encoder (for the kill -9 subprocess: no model load, slow batches)."""

    name: ClassVar[str] = "test-hash-text"
    modality: ClassVar[str] = "text"
    version = "hash-text-v1"
    dim = 8

    def __init__(self, delay: float = 0.0):
        self.delay = delay

    def encode(self, inputs):
        time.sleep(self.delay)
        seeds = [int(hashlib.sha256(t.encode()).hexdigest()[:8], 16) for t in inputs]
        rows = [np.random.default_rng(s).normal(size=8) for s in seeds]
        return l2_normalize(np.asarray(rows, np.float32).reshape(-1, 8))


class CrashingEncoder(Encoder):
    """Wraps an encoder and raises (like a crash mid-job) on batch number ``crash_on``."""

    name: ClassVar[str] = "minilm"
    modality: ClassVar[str] = "text"

    def __init__(self, inner: Encoder, crash_on: int):
        self.inner, self.crash_on, self.calls = inner, crash_on, 0

    @property
    def version(self):
        return self.inner.version

    @property
    def dim(self):
        return self.inner.dim

    def encode(self, inputs):
        self.calls += 1
        if self.calls >= self.crash_on:
            raise RuntimeError("simulated crash")
        return self.inner.encode(inputs)


def make_catalog(root, media: bool = True) -> Catalog:
    """10 items (posters for 1-6; 7 escapes the media root, 8 is missing, 9 corrupt), 4 users."""
    media_root = root / "media"
    (media_root / "posters").mkdir(parents=True, exist_ok=True)
    posters: list[str | None] = [None] * N_ITEMS
    if media:
        for i in range(6):
            colour = (40 * i, 255 - 30 * i, 128)
            Image.new("RGB", (16, 24), colour).save(media_root / "posters" / f"{i + 1}.jpg")
            posters[i] = f"posters/{i + 1}.jpg"
        posters[6] = "../../outside.jpg"
        posters[7] = "posters/missing.jpg"
        (media_root / "posters" / "9.jpg").write_bytes(b"not a jpeg")
        posters[8] = "posters/9.jpg"
    items = pl.DataFrame(
        {
            "item_id": list(range(1, N_ITEMS + 1)),
            "title": [f"Movie {i}" for i in range(1, N_ITEMS + 1)],
            "description": [f"A story about topic {i % 3} and hero {i}." for i in range(N_ITEMS)],
            "genres": [["drama"] if i % 2 else ["comedy", "action"] for i in range(N_ITEMS)],
            "tags": [[f"tag{i}"] for i in range(N_ITEMS)],
            "year": [2000 + i for i in range(N_ITEMS)],
            "poster_path": posters,
            "trailer_path": [None] * N_ITEMS,
        },
        schema=ITEMS_SCHEMA,
    )
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    users = pl.DataFrame({"user_id": [1, 2, 3, 4], "created_at": [t0] * 4}, schema=USERS_SCHEMA)
    rows = [
        (u, (u * 3 + k) % N_ITEMS + 1, t0 + timedelta(days=u + k))
        for u in range(1, 5)
        for k in range(4)
    ]
    interactions = pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "timestamp": [r[2] for r in rows],
            "kind": ["review" if k % 2 else "rating" for k in range(len(rows))],
            "rating": [float(1 + k % 5) for k in range(len(rows))],
            "review_text": [f"Great film number {k}" if k % 2 else None for k in range(len(rows))],
            "watch_fraction": [1.0] * len(rows),
        },
        schema=INTERACTIONS_SCHEMA,
    )
    return Catalog(items, users, interactions, media_root=media_root, name="tiny-jobs")


def make_workspace(root, media: bool = True) -> Workspace:
    ws = Workspace(root / "ws").ensure()
    make_catalog(root, media).save(ws.data_dir)
    return ws


# ---------------------------------------------------------------------------------- tests
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from features.jobs import EmbedConfig  # noqa: E402
from features.jobs.embed import run_embed  # noqa: E402
from features.store import FeatureStore  # noqa: E402

LINE = re.compile(r"^(\w+): encoded (\d+) / skipped (\d+) / failed (\d+) \[.+, [\d.]+ items/s\]$")


@pytest.fixture(scope="module")
def minilm():
    from features.encoders import create_encoder

    encoder = create_encoder("minilm", device="cpu")
    encoder.encode(["warm up"])
    return encoder


def summary(store: FeatureStore) -> dict:
    import json

    return json.loads(store.jobs()["summary"][-1])


def test_text_job_writes_item_text_and_fused(tmp_path, minilm, capsys):
    ws = make_workspace(tmp_path, media=False)
    line = run_embed(ws, ["text"], encoders={"text": minilm})
    assert line.startswith("embed embed-") and "item_text 10/0/0" in line
    store = FeatureStore(ws.lancedb_uri)
    ids, vectors = store.vectors("item", "text")
    assert ids.tolist() == list(range(1, 11)) and vectors.shape == (10, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    fused_ids, fused = store.vectors("item", "fused")
    assert fused_ids.tolist() == ids.tolist()
    np.testing.assert_allclose(fused, vectors, atol=1e-6)  # text alone: late fusion = text
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("item_")]
    assert [LINE.match(x).group(1) for x in lines] == ["item_text", "item_fused"]


def test_incremental_rerun_skips_and_changed_item_is_reencoded(tmp_path, minilm):
    ws = make_workspace(tmp_path, media=False)
    run_embed(ws, ["text"], encoders={"text": minilm}, progress=False)
    store = FeatureStore(ws.lancedb_uri)
    first = store.vectors("item", "text")
    run_embed(ws, ["text"], encoders={"text": minilm}, progress=False)
    assert (summary(store)["item_text"]["encoded"], summary(store)["item_text"]["skipped"]) == (
        0,
        10,
    )
    assert summary(store)["item_fused"]["encoded"] == 0
    # Change one title: exactly that item is re-encoded (and re-fused).
    from recsys.core.catalog import Catalog

    catalog = Catalog.load(ws.data_dir)
    catalog.items = catalog.items.with_columns(
        pl.when(pl.col("item_id") == 4)
        .then(pl.lit("A new title"))
        .otherwise("title")
        .alias("title")
    )
    catalog.save(ws.data_dir)
    run_embed(ws, ["text"], encoders={"text": minilm}, progress=False)
    s = summary(store)
    assert (s["item_text"]["encoded"], s["item_text"]["skipped"]) == (1, 9)
    assert s["item_fused"]["encoded"] == 1
    ids, vectors = store.vectors("item", "text")
    changed = ids == 4
    np.testing.assert_allclose(vectors[~changed], first[1][~changed])
    assert not np.allclose(vectors[changed], first[1][changed])


def test_crash_after_first_chunk_then_rerun_has_no_duplicates_or_gaps(tmp_path, minilm):
    ws = make_workspace(tmp_path, media=False)
    config = EmbedConfig(batch_size=3, chunk_size=3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_embed(
            ws,
            ["text"],
            config=config,
            encoders={"text": CrashingEncoder(minilm, 2)},
            progress=False,
        )
    store = FeatureStore(ws.lancedb_uri)
    assert store.read("item_text").height == 3  # the first chunk was committed
    run_embed(ws, ["text"], config=config, encoders={"text": minilm}, progress=False)
    s = summary(store)["item_text"]
    assert (s["encoded"], s["skipped"], s["failed"]) == (7, 3, 0)
    rows = store.read("item_text")
    assert sorted(rows["id"].to_list()) == list(range(1, 11))  # none missing, none twice


KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_jobs import HashTextEncoder
from features.jobs import EmbedConfig
from features.jobs.embed import run_embed
from recsys.core.workspace import Workspace
run_embed(Workspace.at({root!r}), ["text"], config=EmbedConfig(batch_size=2, chunk_size=2),
          encoders={{"text": HashTextEncoder(delay=0.3)}}, progress=False)
"""


def test_kill_9_mid_job_then_rerun_is_complete(tmp_path):
    import signal

    ws = make_workspace(tmp_path, media=False)
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), root=str(ws.root))
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)])
    table = Path(ws.lancedb_uri) / "item_text.lance"
    deadline = time.monotonic() + 60
    store = None
    while time.monotonic() < deadline and proc.poll() is None:
        if table.exists():
            store = store or FeatureStore(ws.lancedb_uri)
            if "item_text" in store.table_names() and store.read("item_text").height >= 2:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = FeatureStore(ws.lancedb_uri)
    before = store.read("item_text").height
    assert 2 <= before < 10, "the kill must land mid-job"
    run_embed(
        ws,
        ["text"],
        config=EmbedConfig(batch_size=2, chunk_size=2),
        encoders={"text": HashTextEncoder()},
        progress=False,
    )
    rows = store.read("item_text")
    assert sorted(rows["id"].to_list()) == list(range(1, 11))
    assert summary(store)["item_text"]["encoded"] == 10 - before


def test_bad_media_rows_land_in_errors_and_the_rest_is_encoded(tmp_path, minilm):
    ws = make_workspace(tmp_path)
    config = EmbedConfig(fusion={"weights": {"text": 1.0, "image": 1.0}})
    line = run_embed(
        ws,
        ["text", "image"],
        config=config,
        encoders={"text": minilm, "image": MeanColourEncoder()},
        progress=False,
    )
    assert "item_image 6/0/3" in line
    store = FeatureStore(ws.lancedb_uri)
    assert store.vectors("item", "image")[0].tolist() == [1, 2, 3, 4, 5, 6]
    errors = {r["id"]: r["reason"] for r in store.errors().to_dicts()}
    assert set(errors) == {7, 8, 9}
    assert errors[7].startswith("outside_media_root")
    assert errors[8].startswith("missing_file")
    assert "corrupt_image" in errors[9]
    # Items without a usable poster still get a fused vector (text only, weights renormalised).
    ids, fused = store.vectors("item", "fused")
    assert ids.tolist() == list(range(1, 11)) and fused.shape[1] == 384 + 4
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-5)
    lineage = store.read("item_fused")["lineage"][0]
    assert "mean-colour-v1" in lineage and "all-MiniLM" in lineage


def test_unavailable_encoder_is_reported_not_fatal(tmp_path, minilm):
    ws = make_workspace(tmp_path)
    config = EmbedConfig(encoders={"image": "no-such-encoder"})
    line = run_embed(
        ws, ["text", "image"], config=config, encoders={"text": minilm}, progress=False
    )
    assert "item_image unavailable" in line and "item_text 10/0/0" in line
    with pytest.raises(ValueError, match="unknown modalities"):
        run_embed(ws, ["smell"])


# Not marked slow although a local Ray cluster takes 10-40 s to start: the issue asks for the
# Ray engine to be proven equal to the local one in every `make test`.
def test_ray_engine_matches_local(tmp_path, minilm):
    pytest.importorskip("ray")
    local = make_workspace(tmp_path / "local", media=False)
    ray_ws = make_workspace(tmp_path / "ray", media=False)
    config = EmbedConfig(batch_size=4, chunk_size=4)
    run_embed(local, ["text"], config=config, progress=False)
    run_embed(ray_ws, ["text"], "ray", config=config, progress=False)
    for table in ("item_text", "item_fused"):
        a = FeatureStore(local.lancedb_uri).read(table).sort("id")
        b = FeatureStore(ray_ws.lancedb_uri).read(table).sort("id")
        assert a["id"].to_list() == b["id"].to_list()
        assert a["content_hash"].to_list() == b["content_hash"].to_list()
        assert a["encoder_version"].to_list() == b["encoder_version"].to_list()
        np.testing.assert_allclose(
            np.stack(a["vector"].to_list()), np.stack(b["vector"].to_list()), atol=1e-5
        )


def test_walking_skeleton_on_the_tiny_dataset(tiny_workspace, minilm):
    line = run_embed(tiny_workspace, ["text"], encoders={"text": minilm}, progress=False)
    store = FeatureStore(tiny_workspace.lancedb_uri)
    n_items = store.vectors("item", "text")[0].size
    assert n_items > 0 and f"item_text {n_items}/0/0" in line
    assert store.vectors("item", "fused")[0].size == n_items


def test_all_modalities_then_point_in_time_training_frame(tmp_path, minilm):
    ws = make_workspace(tmp_path)
    doubles = {"image": MeanColourEncoder(), "video": MeanColourEncoder()}
    # Real MiniLM for item text; the hash double keeps the two other text tables cheap.
    texts = {"text": minilm, "review_text": HashTextEncoder(), "history_text": HashTextEncoder()}
    line = run_embed(ws, None, encoders={**texts, **doubles}, progress=False)
    store = FeatureStore(ws.lancedb_uri)
    for table in (
        "item_text",
        "item_image",
        "item_ratings",
        "user_ratings",
        "item_review_text",
        "user_history_text",
        "item_fused",
    ):
        assert table in store.table_names(), line
    assert store.vectors("user", "history_text")[0].tolist() == [1, 2, 3, 4]
    assert store.vectors("user", "ratings")[0].tolist() == [1, 2, 3, 4]
    again = run_embed(ws, None, encoders={**texts, **doubles}, progress=False)
    assert "item_ratings 0/10/0" in again and "item_fused 0/10/0" in again
    catalog_interactions = pl.read_parquet(ws.data_dir / "interactions.parquet")
    frame = store.training_frame(catalog_interactions, datetime.now(UTC))
    assert frame.height == catalog_interactions.height
    assert {"item_text", "item_fused", "user_history_text", "user_ratings"} <= set(frame.columns)
    assert frame["item_text"].null_count() == 0
    early = store.training_frame(catalog_interactions, datetime(2025, 1, 3, tzinfo=UTC))
    assert early.height < frame.height and early["item_text"].null_count() == early.height


def test_projected_fusion_in_the_job(tmp_path):
    kind = "early"
    ws = make_workspace(tmp_path)
    config = EmbedConfig(fusion={"kind": kind, "dim": 6, "weights": {"text": 1.0, "image": 2.0}})
    doubles = {"text": HashTextEncoder(), "image": MeanColourEncoder()}
    run_embed(ws, ["text", "image"], config=config, encoders=doubles, progress=False)
    store = FeatureStore(ws.lancedb_uri)
    ids, fused = store.vectors("item", "fused")
    assert ids.tolist() == list(range(1, 11)) and fused.shape == (10, 6)
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-5)
    assert store.latest_encoder_version("item", "fused").startswith(kind)


# ------------------------------------------------------------- point-in-time item text
# Why the hash double here: these tests check which rows the job writes and which of them a
# point-in-time read returns; a deterministic vector per exact text tells base from full text
# as well as MiniLM would, without loading it in a module that also runs the CPU-bound jobs.
TAGGED = datetime(2024, 6, 1, tzinfo=UTC)  # item 1's user tag "tag0"
BASE_1 = "Movie 1 (2000). Genres: comedy, action. A story about topic 0 and hero 0."
FULL_1 = "Movie 1 (2000). Genres: comedy, action. Tags: tag0. A story about topic 0 and hero 0."
TEXT_2 = "Movie 2 (2001). Genres: drama. Tags: tag1. A story about topic 1 and hero 1."  # undated


def tagged_workspace(root) -> Workspace:
    """The tiny catalog where item 1's tag is a dated user tag (the others are metadata)."""
    ws = Workspace(root / "ws").ensure()
    catalog = make_catalog(root, media=False)
    catalog.tag_events = pl.DataFrame([(3, 1, "tag0", TAGGED)], TAG_EVENTS_SCHEMA, orient="row")
    catalog.save(ws.data_dir)
    return ws


def text_of(store, as_of, ids=(1, 2)) -> np.ndarray:
    from recsys.core.interactions import IdVocab

    return store.aligned("item", "text", IdVocab.from_ids(list(ids)), as_of=as_of).matrix


def test_text_job_writes_base_and_full_rows_read_by_event_time(tmp_path):
    ws = tagged_workspace(tmp_path)
    enc = HashTextEncoder()
    cfg = EmbedConfig(fuse=False)
    line = run_embed(ws, ["text"], encoders={"text": enc}, config=cfg, progress=False)
    assert "item_text 11/0/0" in line  # 10 items, one of them twice
    store = FeatureStore(ws.lancedb_uri)
    rows = store.read("item_text").sort("id", "valid_from", nulls_last=False)
    assert rows["id"].to_list()[:3] == [1, 1, 2]
    assert rows["valid_from"].to_list()[:3] == [None, TAGGED, None]
    base, full, other = enc.encode([BASE_1, FULL_1, TEXT_2])
    np.testing.assert_allclose(text_of(store, TAGGED - timedelta(seconds=1)), [base, other])
    for as_of in (TAGGED, None):  # at the tag's time and "now": the full text
        np.testing.assert_allclose(text_of(store, as_of), [full, other])
    again = run_embed(ws, ["text"], encoders={"text": enc}, config=cfg, progress=False)
    assert "item_text 0/11/0" in again  # both rows of item 1 are recognised: a no-op


def test_a_new_tag_re_encodes_only_the_full_text_and_history_stays_readable(tmp_path):
    ws = tagged_workspace(tmp_path)
    enc, cfg = HashTextEncoder(), EmbedConfig(fuse=False)
    run_embed(ws, ["text"], encoders={"text": enc}, config=cfg, progress=False)
    catalog = Catalog.load(ws.data_dir)
    retagged = TAGGED + timedelta(days=30)
    catalog.items = catalog.items.with_columns(
        pl.when(pl.col("item_id") == 1)
        .then(pl.lit(["tag0", "sequel"]))
        .otherwise("tags")
        .alias("tags")
    )
    new_event = pl.DataFrame([(4, 1, "sequel", retagged)], TAG_EVENTS_SCHEMA, orient="row")
    catalog.tag_events = pl.concat([catalog.tag_events, new_event])
    catalog.save(ws.data_dir)
    line = run_embed(ws, ["text"], encoders={"text": enc}, config=cfg, progress=False)
    assert "item_text 1/10/0" in line  # item 1's base text did not change
    store = FeatureStore(ws.lancedb_uri)
    (newest,) = enc.encode([FULL_1.replace("Tags: tag0.", "Tags: tag0, sequel.")])
    (first,) = enc.encode([FULL_1])
    np.testing.assert_allclose(text_of(store, retagged - timedelta(days=1), [1]), [first])
    np.testing.assert_allclose(text_of(store, None, [1]), [newest])


def test_review_text_rows_are_valid_from_their_newest_review(tmp_path):
    from recsys.core.interactions import IdVocab

    ws = make_workspace(tmp_path, media=False)
    cfg = EmbedConfig(fuse=False)
    doubles = {"review_text": HashTextEncoder()}
    run_embed(ws, ["review_text"], encoders=doubles, config=cfg, progress=False)
    store = FeatureStore(ws.lancedb_uri)
    vocab = IdVocab.from_ids(range(1, N_ITEMS + 1))
    now = store.aligned("item", "review_text", vocab)
    assert vocab.ids[now.present].tolist() == [1, 3, 4, 5, 6, 7, 8, 10]
    # newest reviews: items 5 (Jan 3), 8 (Jan 4), 1 and 7 (Jan 5); the rest later
    then = store.aligned("item", "review_text", vocab, as_of=datetime(2025, 1, 5, tzinfo=UTC))
    assert vocab.ids[then.present].tolist() == [1, 5, 7, 8]
    np.testing.assert_allclose(then.matrix[then.present], now.matrix[then.present])
