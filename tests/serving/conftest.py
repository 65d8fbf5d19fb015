"""Serving fixtures: one tiny but real workspace and one loaded engine for the whole suite.

The workspace is built here (canonical tables, fitted popularity/item-kNN, a LanceDB store with
real MiniLM text vectors) rather than from the synthetic generator, so the serving tests pin
their own known answers: each user loves one genre.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.catalog import Catalog
from recsys.config import Workspace
from recsys.interactions import IdVocab
from recsys.ranker.itemknn import ItemKNN
from recsys.ranker.popularity import Popularity
from recsys.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA

os.environ.setdefault("HF_HUB_OFFLINE", "1")

GENRES = {
    "Sci-Fi": (
        "space",
        "a starship crew explores distant galaxies and alien worlds",
        (30, 40, 160),
    ),
    "Romance": ("love", "two people fall in love in a small seaside town", (200, 60, 110)),
    "Horror": ("night", "a haunted house terrifies a family after midnight", (20, 20, 20)),
    "Comedy": ("laughs", "a clumsy chef opens a chaotic restaurant with friends", (240, 200, 40)),
}
ITEMS_PER_GENRE = 10
N_USERS = 24


def build_workspace(root: Path, encode_text) -> Workspace:
    """Write data/, lancedb/ and artifacts/run-a (published as current) under ``root``."""
    from PIL import Image

    ws = Workspace(root)
    media = root / "media"
    (media / "posters").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for g, (genre, (word, plot, color)) in enumerate(GENRES.items()):
        for j in range(ITEMS_PER_GENRE):
            item_id = 100 + g * ITEMS_PER_GENRE + j
            poster = f"posters/{item_id}.jpg"
            shade = np.clip(np.array(color) + rng.integers(-25, 25, 3), 0, 255).astype(np.uint8)
            Image.new("RGB", (60, 90), tuple(int(c) for c in shade)).save(media / poster)
            rows.append(
                {
                    "item_id": item_id,
                    "title": f"{word.title()} Story {j + 1}",
                    "description": f"{plot}, part {j + 1}",
                    "genres": [genre],
                    "tags": [word],
                    "year": 1990 + g * 8 + j,
                    "poster_path": poster,
                    "trailer_path": None,
                }
            )
    items = pl.DataFrame(rows, schema=ITEMS_SCHEMA)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    users = pl.DataFrame(
        {"user_id": list(range(1, N_USERS + 1)), "created_at": [start] * N_USERS},
        schema=USERS_SCHEMA,
    )
    inter = []
    for u in range(1, N_USERS + 1):
        g = (u - 1) % len(GENRES)  # each user loves one genre
        liked = rng.choice(ITEMS_PER_GENRE, size=6, replace=False)
        for t, j in enumerate(liked):
            inter.append(
                (
                    u,
                    100 + g * ITEMS_PER_GENRE + int(j),
                    start + timedelta(days=u + t),
                    "rating",
                    5.0,
                    None,
                    1.0,
                )
            )
        other = (g + 1) % len(GENRES)  # and dislikes one title of another genre
        inter.append(
            (
                u,
                100 + other * ITEMS_PER_GENRE,
                start + timedelta(days=u + 7),
                "rating",
                1.0,
                None,
                0.2,
            )
        )
    interactions = pl.DataFrame(inter, schema=INTERACTIONS_SCHEMA, orient="row")
    catalog = Catalog(items, users, interactions, media_root=media, name="serving-tiny")
    catalog.save(ws.data_dir)
    _write_vectors(ws, items, encode_text)
    vocab = IdVocab.from_ids(items["item_id"])
    run = ws.artifacts_dir / "run-a"
    Popularity.fit(interactions, vocab).save(run / "models" / "popularity")
    ItemKNN.fit(interactions, vocab, neighbours=20).save(run / "models" / "itemknn")
    (run / "manifest.json").write_text(json.dumps({"run_id": "run-a"}))
    publish(ws, run)
    return ws


def _write_vectors(ws: Workspace, items: pl.DataFrame, encode_text) -> None:
    import lancedb
    import pyarrow as pa

    texts = [f"{t}. {d}" for t, d in zip(items["title"], items["description"], strict=True)]
    text_vecs = np.asarray(encode_text(texts), np.float32)  # (n, 384) real MiniLM
    # Test double for the image encoder (no CLIP weights offline): the poster's mean colour,
    # centred. Serving only needs vectors in a table; this keeps "poster similar" checkable.
    from PIL import Image

    media = ws.root / "media"
    colours = np.stack(
        [
            np.asarray(Image.open(media / p), np.float32).mean(axis=(0, 1)) / 255.0
            for p in items["poster_path"]
        ]
    )  # (n, 3)
    image_vecs = np.concatenate([colours - 0.5, np.full((len(colours), 1), 0.05)], axis=1)
    db = lancedb.connect(ws.lancedb_uri)
    for name, vecs in (("item_text", text_vecs), ("item_image", image_vecs)):
        dim = vecs.shape[1]
        table = pa.table(
            {
                "id": pa.array(items["item_id"].to_list(), pa.int64()),
                "vector": pa.FixedSizeListArray.from_arrays(
                    pa.array(vecs.astype(np.float32).ravel()), dim
                ),
            }
        )
        db.create_table(name, data=table, mode="overwrite")


def publish(ws: Workspace, run: Path) -> None:
    """Atomically point artifacts/current at ``run`` (what `recsys index` does)."""
    tmp = ws.artifacts_dir / f".current-{run.name}"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(run.name, tmp)
    os.replace(tmp, ws.current_link)


def clone_run(ws: Workspace, source: str, name: str) -> Path:
    """A copy of a run under a new name (a "retrained" version for hot-reload tests)."""
    dst = ws.artifacts_dir / name
    shutil.copytree(ws.artifacts_dir / source, dst)
    (dst / "manifest.json").write_text(json.dumps({"run_id": name}))
    return dst


# ----------------------------------------------------------------------------- fixtures
API_KEY = "test-secret"


@pytest.fixture(scope="session")
def encoders():
    from serving.engine import EncoderPool

    return EncoderPool("minilm", device="cpu")


@pytest.fixture(scope="session")
def serving_ws(tmp_path_factory, encoders):
    return build_workspace(tmp_path_factory.mktemp("serving-ws"), encoders.embed_text)


@pytest.fixture(scope="session")
def engine(serving_ws, encoders):
    from serving.engine import RecommendationEngine

    return RecommendationEngine.load(serving_ws, encoders)


@pytest.fixture()
def settings(serving_ws):
    from serving.settings import Settings

    return Settings(workspace=serving_ws.root, api_key=API_KEY, reload_poll_seconds=0)


@pytest.fixture()
def client(settings, engine):
    from fastapi.testclient import TestClient

    from serving.app import create_app

    with TestClient(create_app(settings, engine=engine)) as c:
        yield c


@pytest.fixture()
def switch_run(serving_ws):
    """``switch_run(name, broken=False)`` publishes a copy of run-a (or an empty, broken run);
    run-a is current again after the test."""

    def switch(name: str, broken: bool = False) -> Path:
        run = serving_ws.artifacts_dir / name
        if broken:  # a run without models: loading it must fail
            run.mkdir(parents=True, exist_ok=True)
        elif not run.exists():
            clone_run(serving_ws, "run-a", name)
        publish(serving_ws, run)
        return run

    yield switch
    publish(serving_ws, serving_ws.artifacts_dir / "run-a")
