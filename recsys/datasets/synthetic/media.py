"""Render posters and trailers to disk, in parallel, plus the deliberately broken files.

Each item's media depends only on (seed, item_id), so chunking across processes does not change
a byte. Broken files exercise the per-item error paths of the encoders downstream.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from recsys.datasets.synthetic.posters import poster_jpeg
from recsys.datasets.synthetic.trailers import write_trailer

PARALLEL_MIN_ITEMS = 400  # below this, process start-up costs more than it saves


def _render_chunk(args: tuple[str, int, np.ndarray, np.ndarray, np.ndarray]) -> int:
    root, seed, ids, genres, styles = args
    posters, trailers = Path(root) / "posters", Path(root) / "trailers"
    for item_id, genre, style in zip(ids.tolist(), genres.tolist(), styles, strict=True):
        item_seed = seed * 1_000_003 + item_id
        (posters / f"{item_id}.jpg").write_bytes(poster_jpeg(genre, style, item_seed))
        write_trailer(trailers / f"{item_id}.mp4", genre, style, item_seed)
    return len(ids)


def render_media(
    root: Path,
    seed: int,
    ids: np.ndarray,
    genres: np.ndarray,
    styles: np.ndarray,
    workers: int = 0,
    progress: bool = False,
) -> None:
    """Write ``posters/<id>.jpg`` and ``trailers/<id>.mp4`` under ``root`` for every id."""
    (root / "posters").mkdir(parents=True, exist_ok=True)
    (root / "trailers").mkdir(parents=True, exist_ok=True)
    workers = workers or min(4, os.cpu_count() or 1)
    if workers <= 1 or len(ids) < PARALLEL_MIN_ITEMS:
        _render_chunk((str(root), seed, ids, genres, styles))
        return
    from multiprocessing import get_context

    from tqdm import tqdm

    # spawn, not fork: forking a process that holds polars' thread pool can deadlock.
    bounds = np.linspace(0, len(ids), workers * 8 + 1).astype(int)
    chunks = [
        (str(root), seed, ids[a:b], genres[a:b], styles[a:b])
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        if b > a
    ]
    with (
        ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool,
        tqdm(total=len(ids), desc="media", unit="item", disable=not progress) as bar,
    ):
        for done in pool.map(_render_chunk, chunks):
            bar.update(done)


def break_media(root: Path, broken: dict[str, int]) -> None:
    """Damage the files of the chosen items (kinds as in ``choose_broken``)."""
    if "corrupt_poster" in broken:
        # A JPEG start-of-image marker followed by garbage: looks like a JPEG, fails to decode.
        garbage = np.random.default_rng(broken["corrupt_poster"]).bytes(512)
        (root / "posters" / f"{broken['corrupt_poster']}.jpg").write_bytes(
            b"\xff\xd8\xff" + garbage
        )
    if "empty_poster" in broken:
        (root / "posters" / f"{broken['empty_poster']}.jpg").write_bytes(b"")
    if "missing_poster" in broken:
        (root / "posters" / f"{broken['missing_poster']}.jpg").unlink(missing_ok=True)
    if "truncated_trailer" in broken:
        path = root / "trailers" / f"{broken['truncated_trailer']}.mp4"
        data = path.read_bytes()
        # mp4 keeps its index (moov atom) at the end, so the first third has no usable index.
        path.write_bytes(data[: len(data) // 3])
    for key in ("no_media_1", "no_media_2"):
        if key in broken:
            (root / "posters" / f"{broken[key]}.jpg").unlink(missing_ok=True)
            (root / "trailers" / f"{broken[key]}.mp4").unlink(missing_ok=True)


BROKEN_KINDS = (
    "corrupt_poster",
    "empty_poster",
    "missing_poster",
    "truncated_trailer",
    "no_media_1",
    "no_media_2",
)


def choose_broken(item_ids: np.ndarray, cold: np.ndarray, rng: np.random.Generator) -> dict:
    """Distinct non-cold items whose media gets broken, by kind."""
    warm = item_ids[~cold]
    picked = rng.choice(warm, size=len(BROKEN_KINDS), replace=False)
    return {kind: int(i) for kind, i in zip(BROKEN_KINDS, picked, strict=True)}
