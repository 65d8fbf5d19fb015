"""Fusion of per-modality vectors: ``Fusion`` ABC + registry (early, late, learned)."""

from features.fusion import early, late, learned  # noqa: F401  (register the built-ins)
from features.fusion.base import FUSIONS, Fusion, FusionConfig, create_fusion, register_fusion

__all__ = ["FUSIONS", "Fusion", "FusionConfig", "create_fusion", "register_fusion"]
