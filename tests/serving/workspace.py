"""The serving suite's tiny workspace, with known answers: each user loves one genre.

Built here (canonical tables, a LanceDB store with real MiniLM text vectors, a ranking
pipeline trained by the real procedure) rather than from the synthetic generator, so the
serving tests pin their own answers.
Also used by `recsys chat` tests (tests/recsys/test_chat.py).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from recsys.app.content import load_pipeline_content
from recsys.core.catalog import Catalog
from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
from recsys.core.workspace import Workspace
from recsys.models.popularity import Popularity
from recsys.ranking import PIPELINE, PipelineConfig, fit_pipeline
from tests.helpers import write_vector_table

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
N_USERS = 96  # enough label users for the ranker to learn that content matters


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
                # mid-history, so each user's latest interaction (the ranker's label) is a like
                start + timedelta(days=u + 2, hours=12),
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
    run = Run(ws.artifacts_dir / "run-a")  # named, not Run.create: tests assert versions
    # the real training procedure; no tower: it needs minutes, and these tests pin answers
    # that content and co-watching already decide (tests/ranking trains one with a tower);
    # leaves of one hessian unit: 96 users give the ranker a few hundred rows, not millions
    content = load_pipeline_content(ws, vocab)
    config = PipelineConfig(tower=False, min_child_weight=1.0)
    pipeline = fit_pipeline(interactions, items, content, config)
    pipeline.save(run.model_dir(PIPELINE))
    Popularity.fit(interactions, vocab).save(run.model_dir(Popularity.name))
    run.write_manifest({"run_id": "run-a"})
    run.publish()
    return ws


def _write_vectors(ws: Workspace, items: pl.DataFrame, encode_text) -> None:
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
    for name, vecs in (("item_text", text_vecs), ("item_image", image_vecs)):
        write_vector_table(ws.lancedb_uri, name, items["item_id"].to_numpy(), vecs)


def clone_run(ws: Workspace, source: str, name: str) -> Run:
    """A copy of a run under a new name (a "retrained" version for hot-reload tests)."""
    dst = Run(ws.artifacts_dir / name)
    shutil.copytree(ws.artifacts_dir / source, dst.path)
    dst.write_manifest({"run_id": name})
    return dst
