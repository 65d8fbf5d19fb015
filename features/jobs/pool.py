"""One encoder instance per distinct (registry name, options) in an embed run; models shared.

Loading a model costs seconds (MiniLM, EfficientNet), so ``text``, ``review_text`` and
``history_text`` with the same encoder and options get the same instance, and the trailer
encoder's frame encoder reuses the poster encoder's loaded EfficientNet (``share_model_of``)
even when the two use different input sizes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from features.encoders import ENCODERS, Encoder, create_encoder, encoder_parameters
from features.jobs.config import EmbedConfig
from recsys.core.catalog import Catalog

MEDIA = ("image", "video")
DEFAULT_FRAME_ENCODER = "efficientnet-lite0"  # VideoEncoder's default ``frame_encoder``


def encoder_options(modality: str, cfg: EmbedConfig, catalog: Catalog) -> dict[str, Any]:
    """Constructor options of one job modality's encoder (config + the catalog media root)."""
    options = dict(cfg.encoder_options.get(modality, {}))
    if modality in MEDIA and catalog.media_root is not None:
        options.setdefault("media_root", str(catalog.media_root))  # defence in depth
    return options


def encoder_factory(modality: str, cfg: EmbedConfig, catalog: Catalog) -> Callable[[], Encoder]:
    """A picklable zero-argument builder (Ray actors build their own copy with it)."""
    name = getattr(cfg.encoders, modality)
    return functools.partial(create_encoder, name, **encoder_options(modality, cfg, catalog))


class EncoderPool:
    """Builds encoders on first use and hands the same instance to modalities that agree.

    Args:
        cfg: Embed config (registry names and options per modality).
        catalog: Gives the media root of image / video inputs.
        given: Already-built encoders per modality, used as they are (tests, warm callers).
    """

    def __init__(
        self, cfg: EmbedConfig, catalog: Catalog, given: Mapping[str, Encoder] | None = None
    ):
        self.cfg, self.catalog = cfg, catalog
        self.given = dict(given or {})
        self._built: dict[str, Encoder] = {}

    def factory(self, modality: str) -> Callable[[], Encoder]:
        if modality in self.given:
            return functools.partial(_same, self.given[modality])  # Ray ships the instance
        return encoder_factory(modality, self.cfg, self.catalog)

    def get(self, modality: str) -> Encoder:
        """The encoder of ``modality``; raises what its constructor raises (KeyError...)."""
        if modality in self.given:
            return self.given[modality]
        name = getattr(self.cfg.encoders, modality)
        options = encoder_options(modality, self.cfg, self.catalog)
        if modality == "video":
            options = self._share_frame_model(options)
        key = f"{name}:{sorted(options.items(), key=lambda kv: kv[0])!r}"
        if key not in self._built:
            self._built[key] = create_encoder(name, **options)
        return self._built[key]

    def _share_frame_model(self, options: dict[str, Any]) -> dict[str, Any]:
        """Let the frame encoder reuse the poster encoder's model when both are the same kind."""
        if self.cfg.encoders.video != "video":
            return options  # a custom video encoder: nothing known about its frame encoder
        frame_name = options.get("frame_encoder", DEFAULT_FRAME_ENCODER)
        if not isinstance(frame_name, str) or frame_name != self.cfg.encoders.image:
            return options
        frame_cfg = dict(options.get("frame_encoder_config") or {})
        if "share_model_of" in frame_cfg or "share_model_of" not in encoder_parameters(frame_name):
            return options
        if frame_cfg.get("weights") != self.cfg.encoder_options.get("image", {}).get("weights"):
            return options  # different weights: a second model is the right thing
        image = self.get("image")
        if not isinstance(image, ENCODERS.get(frame_name)):
            return options  # a caller-given image encoder of another kind (a test double)
        frame_cfg["share_model_of"] = image
        return {**options, "frame_encoder_config": frame_cfg}


def _same(encoder: Encoder) -> Encoder:
    return encoder
