"""All encoders on the shared tiny synthetic dataset (real generated posters and trailers)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.encoders.image import EfficientNetLite0Encoder
from features.encoders.ratings import RatingsFeatures
from features.encoders.text_inputs import item_texts, review_texts, user_history_texts
from features.encoders.video import VideoEncoder


def test_encoders_on_synthetic_catalog(tiny_dataset_dir, efficientnet, minilm):
    items = pl.read_parquet(tiny_dataset_dir / "items.parquet").head(8)
    interactions = pl.read_parquet(tiny_dataset_dir / "interactions.parquet")
    users = pl.read_parquet(tiny_dataset_dir / "users.parquet")
    media_root = tiny_dataset_dir / "media"

    texts = minilm.encode(item_texts(items))
    assert texts.shape == (8, 384)
    ids = items["item_id"].to_list()
    assert len(review_texts(interactions, ids)) == 8
    history = user_history_texts(interactions, items, users["user_id"].to_list())
    assert any(history)

    posters = EfficientNetLite0Encoder(media_root=media_root, share_model_of=efficientnet)
    result = posters.encode_batch(items["poster_path"].to_list())
    assert len(result.ok) + len(result.errors) == 8 and len(result.ok) >= 6
    assert all(msg.split(":")[0] in ("no_media", "missing_file") for msg in result.errors.values())

    trailers = VideoEncoder(frames=2, frame_encoder=posters, media_root=media_root)
    result = trailers.encode_batch(items["trailer_path"].to_list()[:2])
    assert len(result.ok) + len(result.errors) == 2 and result.ok
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)

    all_items = pl.read_parquet(tiny_dataset_dir / "items.parquet")["item_id"].to_numpy()
    feats = RatingsFeatures.fit(interactions, all_items, users["user_id"].to_numpy(), factors=8)
    vectors = feats.item_vectors()
    assert vectors.shape == (len(all_items), 8 + 6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert int(feats.item_raw["count"].eq(0).sum()) >= 1  # the generator's cold items


@pytest.mark.needs_data
def test_movielens_posters_encode(movielens_dir, efficientnet):
    posters = sorted((movielens_dir / "posters").glob("*.jpg"))[:4]
    encoder = EfficientNetLite0Encoder(media_root=movielens_dir, share_model_of=efficientnet)
    result = encoder.encode_batch([p.relative_to(movielens_dir) for p in posters])
    assert result.ok == list(range(len(posters))), result.errors
    assert result.vectors.shape == (len(posters), 1280)
