"""Inference through the towers: item vectors and user vectors of ordered histories.

Shared by training (the re-scorer is fitted on tower scores) and ``HybridRecommender.score``.
"""

from __future__ import annotations

import numpy as np

from recsys.models.hybrid.data import history_tokens

ENCODE_BATCH = 512


def item_vectors(model) -> np.ndarray:
    """(n_items, dim+1) float32 item vectors of a HybridModel (last column = bias)."""
    import torch

    with torch.no_grad():
        return model.item_vectors().numpy().astype(np.float32)


def encode_users(
    model, items: np.ndarray, user_idx: np.ndarray, sequences: list[np.ndarray], max_len: int
) -> np.ndarray:
    """(B, dim+1) user vectors; ``sequences`` = dense item indices, oldest -> newest.

    ``items`` are the model's ``item_vectors``; ``user_idx`` is -1 for an anonymous user: the
    history alone then defines the vector.
    """
    import torch

    user_idx = np.asarray(user_idx, np.int64)
    if len(user_idx) != len(sequences):
        raise ValueError(f"{len(user_idx)} users but {len(sequences)} sequences")
    item_t = torch.from_numpy(items)
    out = np.zeros((len(user_idx), items.shape[1]), np.float32)
    for lo in range(0, len(user_idx), ENCODE_BATCH):
        hi = min(lo + ENCODE_BATCH, len(user_idx))
        tokens, last = history_tokens(sequences[lo:hi], max_len)
        with torch.no_grad():
            h = model.encode(
                torch.from_numpy(user_idx[lo:hi]), torch.from_numpy(tokens), item_t
            )  # (b, T, D+1)
            out[lo:hi] = h[torch.arange(hi - lo), torch.from_numpy(last)].numpy()
    return out
