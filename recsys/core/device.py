"""The one place that decides which torch device to use."""

from __future__ import annotations


def pick_device(preferred: str | None = None) -> str:
    """``preferred`` (from ``Settings.device``), else CUDA when available, else CPU."""
    if preferred:
        return preferred
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
