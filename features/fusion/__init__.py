"""Fusion of per-modality vectors: the ``Fusion`` ABC and its registry (early, late)."""

from features.fusion import early, late  # noqa: F401  (register the built-ins)
from features.fusion.base import FUSIONS, Fusion, FusionConfig, create_fusion

__all__ = ["FUSIONS", "Fusion", "FusionConfig", "create_fusion"]
