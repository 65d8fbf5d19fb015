"""Titles, descriptions, tags and reviews rendered from the latents, vectorised with polars.

No per-row Python: every slot is an index array into a flat vocabulary, gathered and
concatenated column-wise, so a million items take seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from recsys.datasets.synthetic import vocab
from recsys.datasets.synthetic.world import GENRES, World

N_POLES = len(vocab.STYLE_POLES)


def _flat_pole_words() -> list[str]:
    # index = (dim % 16) * 8 + sign * 4 + j  (sign 0 = positive pole)
    return [w for pair in vocab.STYLE_POLES for pole in pair for w in pole]


def _flat(table: dict[str, tuple[str, ...]]) -> tuple[list[str], int]:
    width = len(next(iter(table.values())))
    assert all(len(table[g]) == width for g in GENRES)
    return [w for g in GENRES for w in table[g]], width


def _gather(words: Sequence[str | None], idx: np.ndarray) -> pl.Series:
    return pl.Series(list(words), dtype=pl.String).gather(idx)


def style_word_index(style: np.ndarray, rank: int, rng: np.random.Generator) -> np.ndarray:
    """Flat pole-word index for each row's ``rank``-th strongest style dimension."""
    order = np.argsort(-np.abs(style), axis=1)  # (n, d)
    dim = order[:, rank]
    sign = (style[np.arange(len(style)), dim] < 0).astype(np.int64)
    j = rng.integers(0, vocab.WORDS_PER_POLE, len(style))
    return (dim % N_POLES) * 2 * vocab.WORDS_PER_POLE + sign * vocab.WORDS_PER_POLE + j


def items_text(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """item_id, title, description, genres, tags, year for every item."""
    n = len(world.item_ids)
    g = world.item_genre
    poles = _flat_pole_words()
    w = [style_word_index(world.item_style, r, rng) for r in range(4)]
    nouns, n_nouns = _flat(vocab.GENRE_NOUNS)
    places, n_places = _flat(vocab.GENRE_PLACES)
    heroes, n_heroes = _flat(vocab.GENRE_HEROES)
    plots, n_plots = _flat(vocab.GENRE_PLOTS)
    genre_names = list(GENRES)
    genre_lower = [x.lower() for x in GENRES]

    df = pl.DataFrame(
        {
            "item_id": world.item_ids,
            "w0": _gather(poles, w[0]).str.to_titlecase(),
            "w1": _gather(poles, w[1]),
            "w2": _gather(poles, w[2]),
            "w3": _gather(poles, w[3]),
            "noun": _gather(nouns, g * n_nouns + rng.integers(0, n_nouns, n)),
            "place": _gather(places, g * n_places + rng.integers(0, n_places, n)),
            "hero": _gather(heroes, g * n_heroes + rng.integers(0, n_heroes, n)),
            "plot": _gather(plots, g * n_plots + rng.integers(0, n_plots, n)),
            "genre": _gather(genre_lower, g),
            "template": rng.integers(0, 3, n),
            "year": world.item_year,
        }
    )
    title = (
        pl.when(pl.col("template") == 0)
        .then(pl.format("The {} {}", "w0", "noun"))
        .when(pl.col("template") == 1)
        .then(pl.format("{} {}", "w0", "noun"))
        .otherwise(pl.format("{} of the {} {}", "noun", "w0", "place"))
    )
    description = pl.format(
        "A {}, {} {} story: {} {} in the {}. The mood is {} and {}.",
        pl.col("w0").str.to_lowercase(),
        "w1",
        "genre",
        "hero",
        "plot",
        pl.col("place").str.to_lowercase(),
        "w2",
        "w3",
    )
    extra = world.item_extra_genres
    genres = pl.concat_list(
        _gather(genre_names, g),
        _gather([*genre_names, None], np.where(extra[:, 0] >= 0, extra[:, 0], len(GENRES))),
        _gather([*genre_names, None], np.where(extra[:, 1] >= 0, extra[:, 1], len(GENRES))),
    ).list.drop_nulls()
    tags = pl.concat_list(
        pl.col("genre"), pl.col("w0").str.to_lowercase(), pl.col("w1")
    ).list.unique(maintain_order=True)
    return df.select(
        "item_id",
        title.alias("title"),
        description.alias("description"),
        genres.alias("genres"),
        tags.alias("tags"),
        pl.col("year").cast(pl.Int32),
    )


def review_texts(
    item_idx: np.ndarray, rating: np.ndarray, world: World, rng: np.random.Generator
) -> pl.Series:
    """One review per row whose sentiment follows its 1-5 ``rating``."""
    n = len(item_idx)
    poles = _flat_pole_words()
    word = _gather(poles, style_word_index(world.item_style[item_idx], 0, rng))
    genre = _gather([x.lower() for x in GENRES], world.item_genre[item_idx])
    n_templates = len(vocab.REVIEW_TEMPLATES[0])
    flat = [t for level in vocab.REVIEW_TEMPLATES for t in level]
    pick = (np.clip(rating, 1, 5).astype(np.int64) - 1) * n_templates
    template = _gather(flat, pick + rng.integers(0, n_templates, n))
    frame = pl.DataFrame({"t": template, "w": word, "g": genre})
    return frame.select(
        pl.col("t")
        .str.replace_all("{w}", pl.col("w"), literal=True)
        .str.replace_all("{g}", pl.col("g"), literal=True)
    ).to_series()
