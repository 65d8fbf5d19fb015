"""Re-ranking: maximal marginal relevance so a list is not ten near-copies of one title."""

from __future__ import annotations

import numpy as np


def mmr(
    candidates: np.ndarray, relevance: np.ndarray, vectors: np.ndarray, k: int, diversity: float
) -> np.ndarray:
    """Greedy MMR: pick argmax (1-λ)·rel − λ·max-sim-to-picked; λ = ``diversity`` in [0, 1].

    Args:
        candidates: (C,) item indices, any order.
        relevance: (C,) scores of the candidates (any scale; min-max normalised here).
        vectors: (C, d) L2-normalised embeddings of the candidates.
        k: How many to pick.
        diversity: 0 keeps the relevance order, 1 maximises spread.
    """
    k = min(k, len(candidates))
    if diversity <= 0 or k <= 1:
        return candidates[np.argsort(-relevance, kind="stable")[:k]]
    span = relevance.max() - relevance.min()
    rel = (relevance - relevance.min()) / span if span > 0 else np.ones_like(relevance)
    sims = vectors @ vectors.T  # (C, C)
    picked = [int(np.argmax(rel))]
    max_sim = sims[picked[0]].copy()
    available = np.ones(len(candidates), bool)
    available[picked[0]] = False
    for _ in range(k - 1):
        gain = (1 - diversity) * rel - diversity * max_sim
        gain[~available] = -np.inf
        nxt = int(np.argmax(gain))
        picked.append(nxt)
        available[nxt] = False
        max_sim = np.maximum(max_sim, sims[nxt])
    return candidates[np.asarray(picked)]
