"""Synthetic catalog: determinism, schemas, the planted latent signal and the planted faults."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
from recsys.datasets.synthetic import SynthConfig, generate
from recsys.datasets.synthetic.vocab import NEGATIVE_WORDS, POSITIVE_WORDS

TINY = SynthConfig(items=80, users=60, interactions=2000, seed=0, media=True)
TABLES = ("items.parquet", "users.parquet", "interactions.parquet")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "tiny"
    generate(TINY, out)
    return out


@pytest.fixture(scope="module")
def tables(tiny) -> dict[str, pl.DataFrame]:
    return {name.split(".")[0]: pl.read_parquet(tiny / name) for name in TABLES}


@pytest.fixture(scope="module")
def truth(tiny) -> dict[str, np.ndarray]:
    with np.load(tiny / "truth.npz", allow_pickle=False) as npz:
        return dict(npz)


def test_same_seed_same_bytes_other_seed_differs(tiny, tmp_path):
    generate(TINY, tmp_path / "again")
    for name in (*TABLES, "truth.npz", "dataset.json"):
        assert (tiny / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    for rel in ("media/posters/1.jpg", "media/trailers/1.mp4"):
        assert (tiny / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel
    generate(
        SynthConfig(items=80, users=60, interactions=2000, seed=1, media=False), tmp_path / "o"
    )
    other = pl.read_parquet(tmp_path / "o" / "interactions.parquet")
    assert not other.equals(pl.read_parquet(tiny / "interactions.parquet"))


def test_layout_manifest_and_schemas(tiny, tables):
    manifest = json.loads((tiny / "dataset.json").read_text())
    assert manifest["format"] == "recsys-synthetic" and manifest["version"] == 1
    assert manifest["media_root"] == "media" and manifest["config"]["items"] == 80
    assert dict(tables["items"].schema) == ITEMS_SCHEMA
    assert dict(tables["users"].schema) == USERS_SCHEMA
    assert dict(tables["interactions"].schema) == INTERACTIONS_SCHEMA
    items = tables["items"]
    assert items["title"].null_count() == 0 and items["description"].null_count() == 0
    assert (items["genres"].list.len() >= 1).all() and (items["tags"].list.len() >= 1).all()
    assert (
        items.filter(pl.col("poster_path").is_not_null())["poster_path"]
        .str.contains(r"^posters/\d+\.jpg$")
        .all()
    )


def test_counts_roughly_honoured(tables):
    assert tables["items"].height == 80 and tables["users"].height == 60
    assert 0.85 * 2000 <= tables["interactions"].height <= 1.05 * 2000
    inter = tables["interactions"]
    assert inter.select("user_id", "item_id").is_duplicated().sum() == 0
    assert set(inter["kind"].unique()) == {"view", "rating", "review"}
    assert inter.filter(pl.col("kind") != "view")["rating"].null_count() == 0
    assert inter.filter(pl.col("kind") == "view")["rating"].null_count() == len(
        inter.filter(pl.col("kind") == "view")
    )


def test_cold_items_and_sparse_users(tables, truth):
    inter = tables["interactions"]
    cold = truth["cold_item_ids"]
    assert len(cold) == 4  # 5% of 80
    assert not inter["item_id"].is_in(cold.tolist()).any()
    assert set(cold) <= set(tables["items"]["item_id"])
    per_user = inter.group_by("user_id").len()
    assert per_user.filter(pl.col("len") <= 2).height >= 1
    assert per_user.height == 60  # every user has at least one interaction


def test_time_order_release_and_window(tables, truth):
    inter = tables["interactions"]
    assert inter.group_by("user_id").agg(pl.col("timestamp").is_sorted())["timestamp"].all()
    span = inter["timestamp"].max() - inter["timestamp"].min()
    assert span.days > 600
    release = dict(zip(truth["item_ids"].tolist(), truth["item_release_us"].tolist(), strict=True))
    ts = inter["timestamp"].dt.epoch("us").to_numpy()
    rel = np.array([release[i] for i in inter["item_id"].to_list()])
    assert (ts >= rel).all()  # nobody watches an item before it is released


def test_latent_signal_liked_items_match_taste(tables, truth):
    inter = tables["interactions"]
    taste = truth["user_taste"][inter["user_id"].to_numpy() - 1]
    style = truth["item_style"][inter["item_id"].to_numpy() - 1]
    aff = (taste * style).sum(axis=1)
    rng = np.random.default_rng(0)
    random_aff = (taste * truth["item_style"][rng.integers(0, 80, len(taste))]).sum(axis=1)
    rating = inter["rating"].to_numpy()
    liked = rating >= 4
    disliked = rating <= 2
    assert aff[liked].mean() > random_aff.mean() + 0.2
    assert aff[liked].mean() > aff[disliked].mean() + 0.2
    assert disliked.sum() > 0.05 * (~np.isnan(rating)).sum()  # low ratings exist


def test_popularity_long_tail(tmp_path):
    # Tiny configs saturate (60 users see half the catalog), so use a mid-sized one without media.
    generate(SynthConfig(items=500, users=300, interactions=6000, media=False), tmp_path / "d")
    inter = pl.read_parquet(tmp_path / "d" / "interactions.parquet")
    counts = np.sort(inter.group_by("item_id").len()["len"].to_numpy())[::-1]
    assert counts[: len(counts) // 10].sum() > 0.3 * counts.sum()  # head: 10% of items
    assert (counts <= 3).sum() > 0.1 * len(counts)  # long tail of rarely seen items


def test_text_carries_genre(tables, truth):
    items = tables["items"].sort("item_id")
    from recsys.datasets.synthetic.world import GENRES

    primary = [GENRES[g] for g in truth["item_genre"]]
    assert [g[0] for g in items["genres"].to_list()] == primary
    assert all(p.lower() in d for p, d in zip(primary, items["description"].to_list(), strict=True))


def test_review_sentiment_follows_rating(tables):
    reviews = tables["interactions"].filter(pl.col("kind") == "review")
    assert reviews.height > 0 and reviews["review_text"].null_count() == 0
    assert tables["interactions"].filter(pl.col("kind") != "review")[
        "review_text"
    ].null_count() == (tables["interactions"].height - reviews.height)
    for rating, text in reviews.select("rating", "review_text").iter_rows():
        low = text.lower()
        pos = any(w in low for w in POSITIVE_WORDS)
        neg = any(w in low for w in NEGATIVE_WORDS)
        if rating >= 4:
            assert pos and not neg, (rating, text)
        elif rating <= 2:
            assert neg and not pos, (rating, text)


def test_media_renders_and_broken_media_is_broken(tiny, tables):
    import av
    from PIL import Image

    broken = json.loads((tiny / "dataset.json").read_text())["broken_media"]
    media = tiny / "media"
    items = tables["items"]
    ok_id = next(i for i in items["item_id"].to_list() if i not in broken.values())
    with Image.open(media / f"posters/{ok_id}.jpg") as img:
        assert img.size == (96, 144)
    with av.open(str(media / f"trailers/{ok_id}.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert 16 <= len(frames) <= 32 and frames[0].shape == (96, 64, 3)

    with pytest.raises(OSError):  # UnidentifiedImageError is an OSError
        _decode_image(media / f"posters/{broken['corrupt_poster']}.jpg")
    assert (media / f"posters/{broken['empty_poster']}.jpg").stat().st_size == 0
    missing = items.filter(pl.col("item_id") == broken["missing_poster"])["poster_path"][0]
    assert missing is not None and not (media / missing).exists()
    with pytest.raises(av.error.FFmpegError):
        _decode_video(media / f"trailers/{broken['truncated_trailer']}.mp4")
    for key in ("no_media_1", "no_media_2"):
        row = items.filter(pl.col("item_id") == broken[key])
        assert row["poster_path"][0] is None and row["trailer_path"][0] is None


def _decode_image(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as img:
        img.load()


def _decode_video(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_no_media_mode(tmp_path):
    summary = generate(
        SynthConfig(items=40, users=20, interactions=300, seed=3, media=False), tmp_path / "d"
    )
    assert "40 items" in summary
    items = pl.read_parquet(tmp_path / "d" / "items.parquet")
    assert items["poster_path"].null_count() == 40 and not (tmp_path / "d" / "media").exists()


def test_rejects_nonsense_config():
    with pytest.raises(ValueError, match="items >= 20"):
        SynthConfig(items=3)


def test_refuses_to_overwrite_unrelated_folder(tmp_path):
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "thesis.txt").write_text("keep me")
    with pytest.raises(ValueError, match="refusing to overwrite"):
        generate(SynthConfig(items=20, users=5, interactions=20, media=False), precious)
    assert (precious / "thesis.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]  # no temp folder left


def test_content_predicts_rare_items_better_than_popularity(tmp_path):
    """Known answer: a user's history style ranks rarely-seen items; popularity cannot."""
    generate(SynthConfig(items=600, users=300, interactions=9000, media=False), tmp_path / "d")
    inter = pl.read_parquet(tmp_path / "d" / "interactions.parquet")
    with np.load(tmp_path / "d" / "truth.npz", allow_pickle=False) as npz:
        style = npz["item_style"]  # row = item_id - 1
    cut = inter["timestamp"].quantile(0.8)
    liked = pl.col("rating").is_null() | (pl.col("rating") >= 4)
    train = inter.filter((pl.col("timestamp") < cut) & liked)
    test = inter.filter((pl.col("timestamp") >= cut) & liked)
    counts = np.bincount(train["item_id"].to_numpy() - 1, minlength=600)
    rare = np.flatnonzero(counts <= 3)  # (R,) item rows seen at most 3 times in training
    profile = {
        u: style[g["item_id"].to_numpy() - 1].mean(axis=0) for (u,), g in train.group_by("user_id")
    }
    rng = np.random.default_rng(0)
    wins = {"content": [], "popularity": []}
    for user, item in test.select("user_id", "item_id").iter_rows():
        if user not in profile or counts[item - 1] > 3:
            continue
        other = rng.choice(rare)  # a random rare item as the negative
        if other == item - 1:
            continue
        score = style[[item - 1, other]] @ profile[user]
        wins["content"].append(float(score[0] > score[1]))
        wins["popularity"].append(float(np.sign(counts[item - 1] - counts[other]) + 1) / 2)
    assert len(wins["content"]) > 30
    assert np.mean(wins["content"]) > 0.7
    assert np.mean(wins["content"]) > np.mean(wins["popularity"]) + 0.1  # ties count half
