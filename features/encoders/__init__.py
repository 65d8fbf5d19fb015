"""Encoders behind one ABC; ``create_encoder(name, **config)`` picks one by registry name.

Importing this package imports the built-in encoder modules, each of which registers its
classes in ``ENCODERS`` (a ``recsys.core.registry.Registry``); their heavy dependencies (torch,
transformers, av) and weights load on first use.

Registered: ``minilm`` (text), ``clip`` / ``clip-text`` (CLIP image / text towers, need
``checkpoint=``), ``efficientnet-lite0`` (image, default), ``video`` (trailers). The ratings
features are fitted, not per-input: see ``features.encoders.ratings.RatingsFeatures``. The
default encoder per job modality is ``features.jobs.config.EncodersConfig``.
"""

from features.encoders import clip, image, text, video  # noqa: F401  (register the built-ins)
from features.encoders.base import (
    ENCODERS,
    EncodeError,
    Encoder,
    EncodeResult,
    Prepared,
    create_encoder,
    encoder_parameters,
    l2_normalize,
)

__all__ = [
    "ENCODERS",
    "EncodeError",
    "EncodeResult",
    "Encoder",
    "Prepared",
    "create_encoder",
    "encoder_parameters",
    "l2_normalize",
]
