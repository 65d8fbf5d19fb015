"""Text encoder (real MiniLM) and the text-input builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from features.encoders import create_encoder
from features.encoders.text_inputs import (
    DatedText,
    dated_item_texts,
    dated_review_texts,
    item_text,
    item_texts,
    review_texts,
    user_history_texts,
)
from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, TAG_EVENTS_SCHEMA

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_minilm_shape_norm_determinism(minilm):
    texts = ["a quiet drama", "", "an explosive action film"]
    a = minilm.encode(texts)
    assert a.shape == (3, 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(minilm.encode(texts), a, atol=1e-6)
    assert minilm.encode([]).shape == (0, 384)
    assert minilm.version == "all-MiniLM-L6-v2@seq128" and minilm.dim == 384


def test_minilm_known_answer(minilm):
    items = [
        item_text(
            "Star Voyagers",
            "A crew explores distant galaxies aboard a starship.",
            ["Sci-Fi", "Adventure"],
            ["space", "aliens"],
        ),
        item_text(
            "Paris in Spring",
            "Two strangers fall in love in a small cafe.",
            ["Romance"],
            ["love story"],
        ),
    ]
    q, space, romance = minilm.encode(["space adventure", *items])
    assert q @ space > q @ romance + 0.1


def test_registry_builds_minilm():
    enc = create_encoder("minilm", device="cpu")
    assert enc.name == "minilm" and enc.modality == "text"


def _items() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "item_id": [1, 2, 3],
            "title": ["Alpha", "Beta", "Gamma"],
            "description": ["First.", None, "Third one."],
            "genres": [["Drama"], [], None],
            "tags": [["slow", "moody"], None, []],
            "year": [1999, None, 2020],
            "poster_path": [None, None, None],
            "trailer_path": [None, None, None],
        },
        schema=ITEMS_SCHEMA,
    )


def _interactions(rows) -> pl.DataFrame:
    cols = list(zip(*rows, strict=True))
    return pl.DataFrame(
        {
            "user_id": cols[0],
            "item_id": cols[1],
            "timestamp": [T0 + timedelta(days=d) for d in cols[2]],
            "kind": cols[3],
            "rating": cols[4],
            "review_text": cols[5],
            "watch_fraction": [None] * len(rows),
        },
        schema=INTERACTIONS_SCHEMA,
    )


def test_item_texts():
    assert item_texts(_items()) == [
        "Alpha (1999). Genres: Drama. Tags: slow, moody. First.",
        "Beta",
        "Gamma (2020). Third one.",
    ]


def test_dated_item_texts_base_without_user_tags_and_full_with_their_newest_time():
    events = pl.DataFrame(
        [
            (5, 1, "moody", T0 + timedelta(days=3)),
            (6, 1, "moody", T0 + timedelta(days=9)),  # the newest event of item 1
            (5, 3, "unused", T0),  # item 3's tags do not hold it: its text depends on no event
        ],
        schema=TAG_EVENTS_SCHEMA,
        orient="row",
    )
    assert dated_item_texts(_items(), events) == [
        DatedText(1, "Alpha (1999). Genres: Drama. Tags: slow. First."),  # "slow" is undated
        DatedText(
            1, "Alpha (1999). Genres: Drama. Tags: slow, moody. First.", T0 + timedelta(days=9)
        ),
        DatedText(2, "Beta"),
        DatedText(3, "Gamma (2020). Third one."),
    ]
    empty = pl.DataFrame(schema=TAG_EVENTS_SCHEMA)
    assert [r.text for r in dated_item_texts(_items(), empty)] == item_texts(_items())
    assert all(r.valid_from is None for r in dated_item_texts(_items(), empty))


def test_dated_review_texts_are_valid_from_the_newest_review():
    inter = _interactions(
        [
            (1, 1, 0, "review", 4.0, "old review"),
            (2, 1, 5, "review", 5.0, "new review"),
            (3, 1, 7, "rating", 2.0, None),  # a later rating without text does not count
            (1, 2, 1, "view", None, None),
        ]
    )
    assert dated_review_texts(inter, [1, 2]) == [
        DatedText(1, "new review | old review", T0 + timedelta(days=5)),
        DatedText(2, "", None),
    ]


def test_review_texts_recent_first_and_capped():
    inter = _interactions(
        [
            (1, 1, 0, "review", 4.0, "old review"),
            (2, 1, 5, "review", 5.0, "new review"),
            (3, 1, 3, "review", None, "  "),
            (1, 2, 1, "view", None, None),
        ]
    )
    assert review_texts(inter, [1, 2, 99]) == ["new review | old review", "", ""]
    assert review_texts(inter, [1], max_reviews=1) == ["new review"]
    assert review_texts(inter, [1], max_chars=5) == ["new r"]


def test_user_history_texts_recent_distinct():
    inter = _interactions(
        [
            (7, 1, 0, "view", None, None),
            (7, 2, 2, "view", None, None),
            (7, 1, 3, "rating", 5.0, None),  # rewatch: Alpha is now the most recent
            (7, 3, 1, "view", None, None),
            (8, 404, 1, "view", None, None),  # unknown item: no title, skipped
        ]
    )
    out = user_history_texts(inter, _items(), [7, 8, 9])
    assert out == ["Alpha; Beta; Gamma", "", ""]
    assert user_history_texts(inter, _items(), [7], n_recent=2) == ["Alpha; Beta"]
