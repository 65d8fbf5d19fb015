"""CLIP image and text towers (``transformers``) sharing one joint space for text->poster search.

Both encoders take ``checkpoint=``: a local directory written by ``save_pretrained`` (model,
image processor, tokenizer) or a hub id already in the local cache (no network at run time).
One loaded model is shared between the two towers of the same checkpoint and device.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from features.encoders.base import ENCODERS, Encoder, l2_normalize
from features.encoders.image import ImageEncoder
from features.encoders.text import quiet_hf_loading
from recsys.core.device import pick_device


def _transformers():
    """``transformers``, imported on first use (heavy); checkpoints are local, and entry points
    set HF_HUB_OFFLINE (``recsys.core.settings.offline_hub``) so the hub is never reached."""
    import transformers

    quiet_hf_loading()
    return transformers


@lru_cache(maxsize=4)
def load_clip(checkpoint: str, device: str) -> Any:
    """The ``CLIPModel`` of ``checkpoint`` in eval mode on ``device`` (shared by both towers)."""
    return _transformers().CLIPModel.from_pretrained(checkpoint).eval().to(device)


@lru_cache(maxsize=4)
def load_image_processor(checkpoint: str) -> Any:
    return _transformers().AutoImageProcessor.from_pretrained(checkpoint)


@lru_cache(maxsize=4)
def load_tokenizer(checkpoint: str) -> Any:
    """Only the text tower needs it, so an image-only checkpoint still serves posters."""
    return _transformers().AutoTokenizer.from_pretrained(checkpoint)


def checkpoint_fingerprint(checkpoint: str) -> str:
    """Short hash of a local checkpoint's configs and weights: re-saved weights re-version."""
    path = Path(checkpoint)
    if not path.is_dir():
        return checkpoint  # a hub id: the id (and revision in the cache) names the weights
    digest = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.suffix == ".json":
            digest.update(f.read_bytes())
        elif f.suffix in (".safetensors", ".bin"):
            st = f.stat()
            digest.update(_file_sha256(str(f), st.st_size, st.st_mtime_ns).encode())
    return f"{path.name}-{digest.hexdigest()[:10]}"


@lru_cache(maxsize=16)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """Full-content hash (~1 s per GB), cached while size and mtime stay the same."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _features(output: Any) -> Any:
    # transformers >= 5 returns a ModelOutput whose pooler_output is the projected embedding.
    return output if hasattr(output, "shape") else output.pooler_output


class _ClipMixin:
    checkpoint: str
    device: str

    @property
    def clip(self) -> Any:
        return load_clip(self.checkpoint, self.device)

    @property
    def dim(self) -> int:
        return int(self.clip.config.projection_dim)

    @property
    def version(self) -> str:
        return f"clip[{checkpoint_fingerprint(self.checkpoint)}]"


def _require(checkpoint: str | Path | None) -> str:
    if not checkpoint:
        raise ValueError("CLIP encoders need checkpoint=<local dir or cached hub id>")
    return str(checkpoint)


@ENCODERS.register("clip")
class ClipImageEncoder(_ClipMixin, ImageEncoder):
    """CLIP image tower; preprocessing (resize, centre crop, normalise) from the checkpoint."""

    name: ClassVar[str] = "clip"

    def __init__(self, checkpoint: str | Path | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.checkpoint = _require(checkpoint)

    def _prepare(self, images: list[Image.Image]) -> np.ndarray:
        # The checkpoint's own processor, as a numpy array so it pickles from job workers.
        processor = load_image_processor(self.checkpoint)
        return processor(images=images, return_tensors="pt")["pixel_values"].numpy()  # (B,3,H,W)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import torch

        pixels = torch.from_numpy(batch).to(self.device)  # (B, 3, H, W)
        with torch.inference_mode():
            feats = _features(self.clip.get_image_features(pixel_values=pixels))
        return feats.float().cpu().numpy()  # (B, projection_dim)


@ENCODERS.register("clip-text")
class ClipTextEncoder(_ClipMixin, Encoder):
    """CLIP text tower: queries land in the same space as ``ClipImageEncoder`` posters."""

    name: ClassVar[str] = "clip-text"
    modality: ClassVar[str] = "text"

    def __init__(
        self, checkpoint: str | Path | None = None, device: str | None = None, batch_size: int = 64
    ):
        self.checkpoint = _require(checkpoint)
        self.device = pick_device(device)
        self.batch_size = batch_size

    def encode(self, inputs: Sequence[str]) -> np.ndarray:
        import torch

        texts = [t if isinstance(t, str) else "" for t in inputs]
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        model, tokenizer = self.clip, load_tokenizer(self.checkpoint)
        max_len = min(tokenizer.model_max_length, model.config.text_config.max_position_embeddings)
        out = []
        for i in range(0, len(texts), self.batch_size):
            enc = tokenizer(
                texts[i : i + self.batch_size],
                padding=True,
                truncation=True,
                max_length=max_len,
                return_tensors="pt",
            )
            with torch.inference_mode():
                feats = model.get_text_features(
                    input_ids=enc["input_ids"].to(self.device),
                    attention_mask=enc["attention_mask"].to(self.device),
                )
            out.append(_features(feats).float().cpu().numpy())  # (B, projection_dim)
        return l2_normalize(np.concatenate(out))
