"""Early fusion: weighted concat of normalised modalities, then a fixed projection to ``dim``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from features.encoders.base import l2_normalize
from features.fusion.base import FUSIONS, Fusion, orthogonal_projection


@FUSIONS.register("early")
class EarlyFusion(Fusion):
    name = "early"

    def out_dim(self, dims: Mapping[str, int]) -> int:
        return min(self.config.dim, int(sum(dims.values())))

    def fuse(self, parts: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray]) -> np.ndarray:
        _, x = self.weighted_parts(parts, masks)  # (N, D_in)
        d_in = x.shape[1]
        if self.config.dim >= d_in:
            return x  # already small enough: a rotation would add nothing
        proj = orthogonal_projection(d_in, self.config.dim, self.config.seed)  # (D_in, dim)
        fused = x @ proj  # (N, dim)
        present = np.linalg.norm(x, axis=1) > 0
        fused[present] = l2_normalize(fused[present])
        return fused
