"""One-line, modality-grounded reasons: which history item a suggestion resembles, and how."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from serving.engine.vectors import ModalityVectors

# What a person calls each modality's similarity.
MODALITY_WORDS = {"text": "plot", "image": "poster", "video": "trailer", "fused": "overall feel"}
# A similarity this many standard deviations above a random pair counts as "similar".
HIGH_Z = 1.0


def explain_batch(
    picked: np.ndarray,
    history: np.ndarray,
    titles: list[str],
    modalities: dict[str, ModalityVectors],
    similarity: sp.csr_matrix | None,
    query: str | None = None,
    cold: bool = False,
) -> list[str]:
    """Reason for each of ``picked`` (item indices) shown to someone who liked ``history``.

    Preference order: the modalities in which the item is unusually close to one liked title
    ("poster and plot similar to X"), then co-watching ("viewers who watched X also watched
    this"), then the free-text query, then popularity.
    """
    if not len(picked):
        return []
    anchors, words = _content_anchors(picked, history, modalities)
    co = None
    if similarity is not None and len(history):
        co = similarity[history][:, picked].toarray()  # (H, K)
    reasons = []
    for j in range(len(picked)):
        if words[j]:
            reasons.append(f"{' and '.join(words[j])} similar to {titles[anchors[j]]}")
        elif co is not None and co[:, j].max() > 0:
            title = titles[int(history[int(np.argmax(co[:, j]))])]
            reasons.append(f"viewers who watched {title} also watched this")
        elif query:
            reasons.append(f"matches “{_clip(query)}”")
        elif cold or not len(history):
            reasons.append("popular right now")
        else:
            reasons.append("popular with viewers like you")
    return reasons


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


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
