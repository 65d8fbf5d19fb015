"""Shared encoder fixtures: real pretrained models loaded once per session, tiny media builders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw


@pytest.fixture(scope="session")
def minilm():
    from features.encoders.text import SentenceTransformerEncoder

    return SentenceTransformerEncoder(device="cpu")


@pytest.fixture(scope="session")
def efficientnet():
    from features.encoders.image import EfficientNetLite0Encoder

    return EfficientNetLite0Encoder(device="cpu")


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """A tiny random-init CLIP checkpoint (model + image processor + tokenizer), built offline.

    Random weights are fine here only: the test checks plumbing (shapes, shared space, save/load),
    not semantics.
    """
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, PreTrainedTokenizerFast

    words = ["<pad>", "<unk>", "<bos>", "<eos>"]
    words += ["a", "photo", "of", "space", "adventure", "romance", "poster", "movie", "red", "blue"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A <eos>", special_tokens=[("<bos>", 2), ("<eos>", 3)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<bos>",
        eos_token="<eos>",
        model_max_length=16,
    )
    text = dict(
        vocab_size=len(words),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=16,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    vision = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16))
    out = tmp_path_factory.mktemp("tiny-clip")
    model.save_pretrained(out)
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def scene(size: tuple[int, int] = (160, 120), seed: int = 0) -> Image.Image:
    """A deterministic structured RGB picture (shapes on a gradient), different per seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    grad = np.linspace(0, 255, w, dtype=np.float32)[None, :, None] * rng.uniform(0.2, 1, 3)
    base = np.broadcast_to(grad, (h, w, 3)).astype(np.uint8)
    image = Image.fromarray(np.ascontiguousarray(base), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        x1, y1 = x0 + int(rng.integers(10, w // 2)), y0 + int(rng.integers(10, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    return image


@pytest.fixture
def media_root(tmp_path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    return root


def write_mp4(
    path: Path, colours: list[tuple[int, int, int]], fps: int = 10, size=(64, 48)
) -> Path:
    """Write an H.264 (or MPEG-4 part 2 if no libx264) MP4 with one solid colour per frame."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for colour in colours:
            arr = np.empty((size[1], size[0], 3), np.uint8)
            arr[:] = colour
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def make_scene():
    """The ``scene`` picture builder (fixtures, because test modules cannot import conftest)."""
    return scene


@pytest.fixture(scope="session")
def make_mp4():
    return write_mp4
