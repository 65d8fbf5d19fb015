"""Late fusion: keep modalities side by side, scaled so one dot product = weighted sum.

Stores concat_m sqrt(w'_m) * v_m. For two items with the same modalities,
<a, b> = sum_m w'_m cos(a_m, b_m): a per-modality weighted similarity in a single FAISS search.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from features.fusion.base import FUSIONS, Fusion


@FUSIONS.register("late")
class LateFusion(Fusion):
    name = "late"

    def out_dim(self, dims: Mapping[str, int]) -> int:
        return int(sum(dims.values()))

    def fuse(self, parts: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray]) -> np.ndarray:
        _, fused = self.weighted_parts(parts, masks)
        return fused  # (N, sum d_m), unit norm where any modality is present
