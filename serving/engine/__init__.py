"""The recommendation engine: an immutable loaded snapshot plus the logic that ranks over it."""

from serving.engine.encoders import EncoderPool, EncoderUnavailable
from serving.engine.engine import (
    ModalityUnavailableError,
    Recommendation,
    RecommendationEngine,
    RecommendationList,
    UnknownItemError,
)

__all__ = [
    "EncoderPool",
    "EncoderUnavailable",
    "ModalityUnavailableError",
    "Recommendation",
    "RecommendationEngine",
    "RecommendationList",
    "UnknownItemError",
]
