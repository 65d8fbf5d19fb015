"""Reasons for "more like this" lists: in which modalities an item resembles the source item.

Recommendation reasons come from the ranker (``recsys.ranking.explain``)."""

from __future__ import annotations

import numpy as np

from serving.engine.vectors import ModalityVectors

# What a person calls each modality's similarity.
MODALITY_WORDS = {"text": "plot", "image": "poster", "video": "trailer", "fused": "overall feel"}
# A similarity this many standard deviations above a random pair counts as "similar".
HIGH_Z = 1.0


def _content_anchors(picked, history, modalities):
    """Per picked item: the closest liked item and the modalities where it is "high"."""
    empty = [-1] * len(picked), [[] for _ in picked]
    raw = [m for k, m in modalities.items() if k != "fused"] or list(modalities.values())
    if not len(history) or not raw:
        return empty
    z = np.stack([m.zscore(m.matrix[history] @ m.matrix[picked].T) for m in raw])  # (M, H, K)
    for i, m in enumerate(raw):  # no vector on either side: no claim
        z[i, ~m.present[history], :] = -np.inf
        z[i, :, ~m.present[picked]] = -np.inf
    z[:, history[:, None] == picked[None, :]] = -np.inf  # never "similar to itself"
    best = z.max(axis=0)  # (H, K)
    anchor_pos = np.argmax(best, axis=0)  # (K,)
    anchors, words = [], []
    for j, a in enumerate(anchor_pos):
        col = z[:, a, j]  # (M,)
        order = np.argsort(-col)
        words.append([MODALITY_WORDS[raw[i].name] for i in order if col[i] >= HIGH_Z][:2])
        anchors.append(int(history[a]))
    return anchors, words


def explain_similar(
    picked: np.ndarray,
    source: int,
    modalities: dict[str, ModalityVectors],
    title: str,
    searched: str | None = None,
) -> list[str]:
    """Reasons for items shown next to ``source``; the ``searched`` modality is named first."""
    _, words = _content_anchors(picked, np.asarray([source]), modalities)
    first = MODALITY_WORDS[searched] if searched in ("text", "image", "video") else None
    out = []
    for w in words:
        w = [first, *[x for x in w if x != first]][:2] if first else (w or ["content"])
        out.append(f"{' and '.join(w)} similar to {title}")
    return out
