"""`generate`: latents -> tables, media and known answers, written atomically to a folder."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from recsys.core.atomic import replace_dir
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, TIMESTAMP, USERS_SCHEMA
from recsys.datasets.synthetic.config import SynthConfig
from recsys.datasets.synthetic.interactions import sample_interactions
from recsys.datasets.synthetic.media import break_media, choose_broken, render_media
from recsys.datasets.synthetic.text import items_text, review_texts
from recsys.datasets.synthetic.world import GENRES, World, build_world

FORMAT = "recsys-synthetic"
VERSION = 1
MEDIA_DIR = "media"
PROGRESS_MIN_INTERACTIONS = 1_000_000  # show stage progress from this size on


def generate(cfg: SynthConfig, out: Path) -> str:
    """Generate the synthetic streaming catalog into ``out`` and return a one-line summary.

    Layout: ``dataset.json``, ``items.parquet``, ``users.parquet``, ``interactions.parquet``,
    ``media/posters/<id>.jpg``, ``media/trailers/<id>.mp4`` and ``truth.npz`` (latents).
    The folder is replaced atomically, so a failed run leaves any previous output intact.
    """
    began = time.perf_counter()
    out = Path(out)
    _check_replaceable(out)
    # Independent streams per stage: changing one stage's draws does not shift the others.
    world_rng, text_rng, inter_rng, review_rng, broken_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(5)
    )
    from tqdm import tqdm

    big = cfg.interactions >= PROGRESS_MIN_INTERACTIONS
    with tqdm(total=4, desc="synth", unit="stage", disable=not big) as bar:
        world = build_world(cfg, world_rng)
        bar.update()
        items = items_text(world, text_rng)
        bar.update()
        interactions, item_idx = sample_interactions(cfg, world, inter_rng)
        bar.update()
        interactions = _add_reviews(interactions, item_idx, world, review_rng)
        bar.update()
    users = pl.DataFrame(
        {"user_id": world.user_ids, "created_at": world.user_created_us}
    ).with_columns(pl.col("created_at").cast(pl.Datetime("us", "UTC")).cast(TIMESTAMP))
    broken = choose_broken(world.item_ids, world.cold, broken_rng) if cfg.media else {}
    items = _with_media_paths(items, cfg.media, broken)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        items.select(list(ITEMS_SCHEMA)).cast(pl.Schema(ITEMS_SCHEMA)).write_parquet(
            tmp / "items.parquet"
        )
        users.cast(pl.Schema(USERS_SCHEMA)).write_parquet(tmp / "users.parquet")
        interactions.select(list(INTERACTIONS_SCHEMA)).cast(
            pl.Schema(INTERACTIONS_SCHEMA)
        ).write_parquet(tmp / "interactions.parquet")
        _write_truth(tmp / "truth.npz", world)
        if cfg.media:
            render_media(
                tmp / MEDIA_DIR,
                cfg.seed,
                world.item_ids,
                world.item_genre,
                world.item_style,
                workers=cfg.workers,
                progress=cfg.items >= 5000 or big,
            )
            break_media(tmp / MEDIA_DIR, broken)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "config": cfg.to_dict(),
            "media_root": MEDIA_DIR if cfg.media else None,
            "genres": list(GENRES),
            "broken_media": broken,
        }
        (tmp / "dataset.json").write_text(json.dumps(manifest, indent=2) + "\n")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - began
    return (
        f"synthetic dataset in {out}: {items.height:,} items ({int(world.cold.sum())} cold), "
        f"{users.height:,} users, {interactions.height:,} interactions"
        f"{', media' if cfg.media else ''} in {seconds:.1f}s"
    )


def _add_reviews(
    interactions: pl.DataFrame, item_idx: np.ndarray, world: World, rng: np.random.Generator
) -> pl.DataFrame:
    is_review = (interactions["kind"] == "review").to_numpy()
    rows = np.flatnonzero(is_review)
    texts = review_texts(
        item_idx[rows], interactions["rating"].to_numpy()[rows].astype(np.int64), world, rng
    )
    full = pl.repeat(None, interactions.height, dtype=pl.String, eager=True).scatter(rows, texts)
    return interactions.with_columns(full.alias("review_text"))


def _with_media_paths(items: pl.DataFrame, media: bool, broken: dict[str, int]) -> pl.DataFrame:
    if not media:
        return items.with_columns(
            pl.lit(None, pl.String).alias("poster_path"),
            pl.lit(None, pl.String).alias("trailer_path"),
        )
    no_media = [broken[k] for k in ("no_media_1", "no_media_2") if k in broken]
    has = ~pl.col("item_id").is_in(no_media)
    # The missing_poster item keeps its path: it points at a file that does not exist.
    return items.with_columns(
        pl.when(has).then(pl.format("posters/{}.jpg", "item_id")).alias("poster_path"),
        pl.when(has).then(pl.format("trailers/{}.mp4", "item_id")).alias("trailer_path"),
    )


def _write_truth(path: Path, world: World) -> None:
    with path.open("wb") as fh:
        np.savez(
            fh,
            item_ids=world.item_ids,
            item_style=world.item_style,
            item_genre=world.item_genre,
            item_popularity=world.item_pop,
            item_release_us=world.item_release_us,
            genre_centroids=world.centroids,
            user_ids=world.user_ids,
            user_taste=world.user_taste,
            user_genre_mix=world.user_mix,
            cold_item_ids=world.item_ids[world.cold],
        )


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that holds anything but an earlier synthetic dataset."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"output path {out} exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    try:
        fmt = json.loads((out / "dataset.json").read_text()).get("format")
    except (OSError, ValueError, AttributeError):
        fmt = None
    if fmt != FORMAT:
        raise ValueError(
            f"refusing to overwrite {out}: it is not empty and holds no synthetic dataset "
            "(choose another --out or remove the folder)"
        )
