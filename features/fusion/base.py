"""The ``Fusion`` interface: per-modality vectors (some missing) -> one item vector.

Every fusion L2-normalises each modality, masks the missing ones and renormalises the weights
over what is present, so an item without a poster or trailer still gets a fused vector.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from features.encoders.base import l2_normalize
from recsys.core.registry import Registry

DEFAULT_WEIGHTS = {"text": 1.0, "image": 0.5, "video": 0.5, "ratings": 1.0, "review_text": 0.5}


class FusionConfig(BaseModel):
    """Which fusion, its per-modality weights and (early) output size."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["early", "late"] = "late"
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    dim: int = Field(default=256, gt=0)
    seed: int = 0

    def fingerprint(self) -> str:
        payload = json.dumps(self.model_dump(), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:10]


class Fusion(ABC):
    name: ClassVar[str]

    def __init__(self, config: FusionConfig | None = None):
        self.config = config or FusionConfig(kind=self.name)  # type: ignore[arg-type]

    @abstractmethod
    def out_dim(self, dims: Mapping[str, int]) -> int:
        """Width of the fused vector for modality widths ``dims``."""

    @abstractmethod
    def fuse(self, parts: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray]) -> np.ndarray:
        """Fuse ``parts[m]`` (N, d_m) where ``masks[m]`` (N,) is True; returns (N, out_dim).

        Rows with no modality present come back as zeros (callers skip them).
        """

    @property
    def version(self) -> str:
        return f"{self.name}-{self.config.fingerprint()}"

    def weighted_parts(
        self, parts: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray]
    ) -> tuple[list[str], np.ndarray]:
        """Modality order and the (N, sum d_m) concat of sqrt(w')·normalised parts.

        w' are the weights renormalised over the modalities each row has, so every row with at
        least one modality has unit norm and dot products are weighted similarity sums.
        """
        order = sorted(parts)
        missing = [m for m in order if m not in self.config.weights]
        if missing:
            raise KeyError(
                f"no fusion weight for modalities {missing}; weights: {self.config.weights}"
            )
        present = np.stack([np.asarray(masks[m], bool) for m in order], axis=1)  # (N, M)
        raw = np.array([self.config.weights[m] for m in order], np.float32)  # (M,)
        w = present * raw  # (N, M)
        total = w.sum(axis=1, keepdims=True)  # (N, 1)
        w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
        blocks = [
            l2_normalize(parts[m]) * np.sqrt(w[:, j : j + 1])  # (N, d_m)
            for j, m in enumerate(order)
        ]
        return order, np.concatenate(blocks, axis=1).astype(np.float32)


FUSIONS: Registry[Fusion] = Registry("fusion", Fusion)
"""``FusionConfig.kind`` -> ``Fusion`` class; ``features.fusion`` imports the built-ins."""


def create_fusion(config: FusionConfig | None = None) -> Fusion:
    config = config or FusionConfig()
    return FUSIONS.get(config.kind)(config)


def orthogonal_projection(d_in: int, d_out: int, seed: int) -> np.ndarray:
    """A seeded (d_in, d_out) matrix with orthonormal columns (d_out <= d_in).

    Data-independent on purpose: PCA would have to be refitted whenever the catalog changes,
    moving every existing fused vector; a fixed random rotation keeps incremental runs in one
    space and, being orthonormal, preserves inner products on average (Johnson-Lindenstrauss).
    """
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d_in, d_out)))  # (d_in, d_out)
    return q.astype(np.float32)
