"""The one place that decides which torch device to use."""

from __future__ import annotations

import os


def pick_device(preferred: str | None = None) -> str:
    """``preferred``, else ``$RECSYS_DEVICE``, else CUDA when available, else CPU."""
    choice = preferred or os.environ.get("RECSYS_DEVICE")
    if choice:
        return choice
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
