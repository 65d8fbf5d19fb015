"""Image encoders: real EfficientNet-Lite0 (session fixture) and a tiny saved CLIP checkpoint."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from features.encoders import create_encoder
from features.encoders.image import EfficientNetLite0Encoder


def test_efficientnet_shape_norm_determinism(efficientnet, make_scene):
    imgs = [make_scene(seed=0), make_scene((90, 200), seed=1)]
    a = efficientnet.encode(imgs)
    assert a.shape == (2, 1280) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(efficientnet.encode(imgs), a, atol=1e-5)
    assert efficientnet.version.startswith("efficientnet-lite0[")


def test_efficientnet_known_answer(efficientnet, make_scene):
    original = make_scene((320, 240), seed=3)
    resized = original.resize((300, 225), Image.Resampling.BILINEAR)
    other = make_scene((320, 240), seed=11)
    a, b, c = efficientnet.encode([original, resized, other])
    assert a @ b > 0.9
    assert a @ b > a @ c + 0.1


def test_modes_and_inputs(efficientnet, media_root, make_scene):
    img = make_scene()
    img.convert("L").save(media_root / "gray.jpg")
    img.convert("CMYK").save(media_root / "cmyk.jpg")
    rgba = img.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(media_root / "alpha.png")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    enc = EfficientNetLite0Encoder(media_root=media_root, share_model_of=efficientnet)
    out = enc.encode(["gray.jpg", "cmyk.jpg", "alpha.png", buf.getvalue(), img])
    assert out.shape == (5, 1280)


def test_encode_batch_keeps_good_items(efficientnet, media_root, make_scene, tmp_path):
    make_scene().save(media_root / "good.jpg")
    make_scene(seed=2).save(media_root / "good2.png")
    (media_root / "zero.jpg").write_bytes(b"")
    (media_root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage" * 20)
    Image.new("RGB", (64, 64)).save(tmp_path / "outside.jpg")
    Image.new("RGB", (300, 300)).save(media_root / "huge.png")
    enc = EfficientNetLite0Encoder(
        media_root=media_root, max_pixels=200 * 200, share_model_of=efficientnet
    )
    inputs = [
        "good.jpg",
        "zero.jpg",
        "missing.jpg",
        "corrupt.jpg",
        "../outside.jpg",
        "huge.png",
        "good2.png",
        42,
        None,
    ]
    result = enc.encode_batch(inputs)
    assert result.ok == [0, 6]
    assert result.vectors.shape == (2, 1280)
    reasons = {i: msg.split(":")[0] for i, msg in result.errors.items()}
    assert reasons == {
        1: "empty_file",
        2: "missing_file",
        3: "corrupt_image",
        4: "outside_media_root",
        5: "decompression_bomb",
        7: "bad_input_type",
        8: "no_media",
    }
    single = enc.encode(["good2.png"])[0]
    np.testing.assert_allclose(result.vectors[1], single, atol=1e-5)  # batching changes nothing


def test_missing_weights_fail_loudly(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights not found"):
        EfficientNetLite0Encoder(weights=tmp_path / "absent.pth", device="cpu")


def test_tiny_clip_image_and_text_share_a_space(tiny_clip_dir, make_scene):
    image_enc = create_encoder("clip", checkpoint=str(tiny_clip_dir), device="cpu")
    text_enc = create_encoder("clip-text", checkpoint=str(tiny_clip_dir), device="cpu")
    imgs = image_enc.encode([make_scene(seed=0), make_scene((50, 80), seed=1).convert("L")])
    texts = text_enc.encode(["a space adventure poster", "romance movie", ""])
    assert imgs.shape == (2, 16) and texts.shape == (3, 16)
    assert image_enc.dim == text_enc.dim == 16
    for v in (imgs, texts):
        assert v.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        text_enc.encode(["a space adventure poster"])[0], texts[0], atol=1e-5
    )
    assert image_enc.version == text_enc.version and "tiny-clip" in image_enc.version
    scores = texts @ imgs.T  # text -> poster search is a plain dot product in the joint space
    assert scores.shape == (3, 2)


def test_clip_needs_a_checkpoint():
    with pytest.raises(ValueError, match="checkpoint"):
        create_encoder("clip")


def test_clip_version_follows_weights(tiny_clip_dir, tmp_path):
    import shutil

    import torch
    from transformers import CLIPModel

    from features.encoders.clip import checkpoint_fingerprint

    copy = tmp_path / "tiny-clip"
    shutil.copytree(tiny_clip_dir, copy)
    assert (
        checkpoint_fingerprint(str(copy)).split("-")[-1]
        == (checkpoint_fingerprint(str(tiny_clip_dir)).split("-")[-1])
    )
    model = CLIPModel.from_pretrained(copy)
    with torch.no_grad():
        model.visual_projection.weight.mul_(2.0)  # "retrained" weights
    model.save_pretrained(copy)
    assert (
        checkpoint_fingerprint(str(copy)).split("-")[-1]
        != (checkpoint_fingerprint(str(tiny_clip_dir)).split("-")[-1])
    )
