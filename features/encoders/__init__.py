"""Encoders behind one ABC; ``create_encoder(name, **config)`` picks one by registry name.

Importing this package registers the built-ins by name only ("module:Class" strings): modules and
their heavy dependencies (torch, transformers, av) load on first use.

Registered: ``minilm`` (text), ``clip`` / ``clip-text`` (CLIP image / text towers, need
``checkpoint=``), ``efficientnet-lite0`` (image, default), ``video`` (trailers). The ratings
features are fitted, not per-input: see ``features.encoders.ratings.RatingsFeatures``
(``FITTED_FEATURES["ratings"]``).
"""

from features.encoders.base import (
    ENCODERS,
    EncodeError,
    Encoder,
    EncodeResult,
    create_encoder,
    l2_normalize,
    register_encoder,
)

register_encoder("minilm", "features.encoders.text:SentenceTransformerEncoder")
register_encoder("efficientnet-lite0", "features.encoders.image:EfficientNetLite0Encoder")
register_encoder("clip", "features.encoders.clip:ClipImageEncoder")
register_encoder("clip-text", "features.encoders.clip:ClipTextEncoder")
register_encoder("video", "features.encoders.video:VideoEncoder")

FITTED_FEATURES: dict[str, str] = {"ratings": "features.encoders.ratings:RatingsFeatures"}
"""Name -> "module:Class" of fitted feature builders (``.fit(...)`` instead of ``encode``)."""

DEFAULT_ENCODERS: dict[str, str] = {
    "text": "minilm",
    "image": "efficientnet-lite0",
    "video": "video",
}
"""Default registry name per modality."""

__all__ = [
    "DEFAULT_ENCODERS",
    "ENCODERS",
    "FITTED_FEATURES",
    "EncodeError",
    "EncodeResult",
    "Encoder",
    "create_encoder",
    "l2_normalize",
    "register_encoder",
]
