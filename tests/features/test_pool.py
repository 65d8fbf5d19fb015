"""One model per embed run: text modalities share MiniLM, trailers share the poster EfficientNet;
ratings options are validated; MovieLens ratings embed end to end (needs_data)."""

from __future__ import annotations

import pytest

import features.jobs.pool as pool_module
from features.jobs import EmbedConfig
from features.jobs.embed import run_embed
from features.jobs.pool import EncoderPool
from features.jobs.ratings import ratings_options
from recsys.core.catalog import Catalog, load_workspace_catalog


@pytest.fixture
def catalog(tiny_workspace) -> Catalog:
    return load_workspace_catalog(tiny_workspace)


def test_text_modalities_share_one_instance(catalog, monkeypatch):
    # Counting double instead of MiniLM: the test is about how many times a model is built.
    built = []
    monkeypatch.setattr(
        pool_module, "create_encoder", lambda name, **kw: built.append((name, kw)) or object()
    )
    pool = EncoderPool(EmbedConfig(), catalog)
    text, reviews, history = (pool.get(m) for m in ("text", "review_text", "history_text"))
    assert text is reviews is history and built == [("minilm", {})]
    other = EncoderPool(
        EmbedConfig(encoder_options={"history_text": {"max_seq_length": 64}}), catalog
    )
    assert other.get("text") is not other.get("history_text")  # other options: other instance


def test_video_frame_encoder_reuses_the_poster_model(catalog):
    pool = EncoderPool(EmbedConfig(), catalog)
    image, video = pool.get("image"), pool.get("video")
    assert video.frame_encoder.model is image.model  # one EfficientNet in memory
    assert image.image_size == 224 and video.frame_encoder.image_size == 128
    assert "@128px" in video.version and "@224px" in image.version
    # Ray actors rebuild from the factory: it must not carry the loaded model along.
    assert "share_model_of" not in pool.factory("video").keywords.get("frame_encoder_config", {})


def test_video_with_a_given_image_double_builds_its_own_model(catalog):
    class Double:  # an image encoder of another kind: nothing to share with it
        pass

    video = EncoderPool(EmbedConfig(), catalog, {"image": Double()}).get("video")
    assert video.frame_encoder.image_size == 128


def test_bad_ratings_options_are_a_clear_config_error(tiny_workspace):
    assert ratings_options({"factors": 8}).factors == 8
    with pytest.raises(ValueError, match="allowed: factors, seed, method"):
        ratings_options({"factor": 8})
    ws = tiny_workspace
    bad = EmbedConfig(encoder_options={"ratings": {"method": "pca"}})
    with pytest.raises(ValueError, match="encoder_options.ratings"):
        run_embed(ws, ["ratings"], config=bad, progress=False)


@pytest.mark.needs_data
def test_movielens_ratings_embed(movielens_dir, tmp_path):
    # Once reported as "item_ratings unavailable" on MovieLens: fit + write must just work.
    from recsys.core.workspace import Workspace
    from recsys.datasets.preprocess import preprocess

    ws = Workspace(tmp_path / "ws-ml").ensure()
    preprocess(movielens_dir, ws)
    line = run_embed(ws, ["ratings"], config=EmbedConfig(fuse=False), progress=False)
    assert "unavailable" not in line and "item_ratings 9742/0/0" in line, line
    assert "user_ratings 610/0/0" in line
