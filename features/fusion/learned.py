"""Learned fusion: a gated mixture of per-modality projections the ranker can train.

Untrained (the default), gates are uniform over the modalities present and each projection is
the seeded orthogonal map, so inference without a checkpoint is deterministic and sensible.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from features.fusion.base import Fusion, orthogonal_projection, register_fusion


def gated_fusion_module(dims: Mapping[str, int], out_dim: int, seed: int = 0):
    """Build the ``GatedFusion`` torch module (torch imported lazily)."""
    import torch
    from torch import nn

    class GatedFusion(nn.Module):
        """gates = softmax(masked W·concat(x)); out = normalise(sum_m gate_m · P_m x_m)."""

        def __init__(self) -> None:
            super().__init__()
            self.order = sorted(dims)
            self.proj = nn.ModuleDict()
            for j, m in enumerate(self.order):
                layer = nn.Linear(dims[m], out_dim, bias=False)
                # Seeded orthonormal init (never torch's unseeded default): an isometry when
                # d_m <= out_dim, an orthogonal projection otherwise.
                if dims[m] >= out_dim:
                    w = orthogonal_projection(dims[m], out_dim, seed + j).T  # (out, d_m)
                else:
                    w = orthogonal_projection(out_dim, dims[m], seed + j)  # (out, d_m)
                with torch.no_grad():
                    layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
                self.proj[m] = layer
            self.gate = nn.Linear(sum(dims.values()), len(self.order))
            nn.init.zeros_(self.gate.weight)  # zero logits -> uniform gates until trained
            nn.init.zeros_(self.gate.bias)

        def forward(self, parts: Mapping[str, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
            # parts[m]: (B, d_m) L2-normalised, zeros where missing; mask: (B, M) bool
            x = torch.cat([parts[m] for m in self.order], dim=-1)  # (B, sum d_m)
            logits = self.gate(x).masked_fill(~mask, float("-inf"))  # (B, M)
            gates = torch.nan_to_num(torch.softmax(logits, dim=-1))  # (B, M); all-missing -> 0
            projected = torch.stack([self.proj[m](parts[m]) for m in self.order], dim=1)
            fused = (gates.unsqueeze(-1) * projected).sum(dim=1)  # (B, out_dim)
            return nn.functional.normalize(fused, dim=-1)

    return GatedFusion()


@register_fusion
class LearnedFusion(Fusion):
    name = "learned"

    def out_dim(self, dims: Mapping[str, int]) -> int:
        return self.config.dim

    def module(self, dims: Mapping[str, int]):
        import torch

        module = gated_fusion_module(dims, self.config.dim, self.config.seed)
        if self.config.checkpoint:
            from safetensors.torch import load_file

            module.load_state_dict(load_file(self.config.checkpoint))
        return module.eval().to(torch.float32)

    def fuse(self, parts: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray]) -> np.ndarray:
        import torch

        from features.encoders.base import l2_normalize

        order = sorted(parts)
        module = self.module({m: parts[m].shape[1] for m in order})
        mask = torch.from_numpy(np.stack([np.asarray(masks[m], bool) for m in order], axis=1))
        tensors = {
            m: torch.from_numpy(l2_normalize(parts[m]) * np.asarray(masks[m], np.float32)[:, None])
            for m in order
        }
        with torch.no_grad():
            return module(tensors, mask).numpy().astype(np.float32)  # (N, dim)
