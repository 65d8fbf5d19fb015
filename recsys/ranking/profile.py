"""What one request knows about its user: history, and the per-space vectors sources search.

Built once per request (serving) or per evaluated/label user (evaluation, ranker training):
the same function either way. Nothing here is catalog-sized: a profile holds vectors (one
per space), sparse row sums over the items the history reaches, and item indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recsys.ranking.scores import SparseScores, ease_scores, knn_scores
from recsys.ranking.stage1 import Stage1


@dataclass
class Profile:
    """A user (or anonymous session) as the sources and features see it.

    Attributes:
        history: liked item indices, oldest first (stored history + session likes).
        seen: item indices never to recommend (when the request excludes seen items).
        recent: the last ``recent_likes`` of ``history``.
        query: text-query vector in the text space, or None.
        content: modality -> unit profile vector (the recent likes' mean, or the text query
            for "text"); modalities without one are absent.
        ease, itemknn: the history's collaborative scores (None without a history, or
            without an EASE model).
        user_factor: the history folded into ALS's factor space (None without a history).
        tower_vector: the user's tower vector (the "tower" source searches FAISS with it),
            None without a tower or history.
    """

    history: np.ndarray
    seen: np.ndarray
    recent: np.ndarray
    query: np.ndarray | None
    content: dict[str, np.ndarray] = field(default_factory=dict)
    ease: SparseScores | None = None
    itemknn: SparseScores | None = None
    user_factor: np.ndarray | None = None
    tower_vector: np.ndarray | None = None


def build_profile(
    stage1: Stage1,
    user_id: int | None,
    history: np.ndarray,
    seen: np.ndarray,
    query: np.ndarray | None,
    recent_likes: int,
) -> Profile:
    """Merge the stored history with the session's; fold it into every source's space."""
    hist, all_seen = stage1.histories.merged(user_id, history, seen)
    recent = hist[-recent_likes:]
    p = Profile(hist, all_seen, recent, query)
    if len(hist):
        if stage1.ease is not None:
            p.ease = ease_scores(stage1.ease, hist)
        p.itemknn = knn_scores(stage1.itemknn, hist)
        p.user_factor = stage1.als.fold_in(_row(hist, len(stage1.vocab)))[0]  # (f,)
        p.tower_vector = _tower_vector(stage1, user_id, hist)
    for m, space in stage1.content.items():
        prof = _profile_vector(space.matrix, space.present, recent, query if m == "text" else None)
        if prof is not None:
            p.content[m] = prof
    return p


def _tower_vector(stage1: Stage1, user_id: int | None, hist: np.ndarray) -> np.ndarray | None:
    """The tower's user vector: stored for a known user whose request adds no like to the
    tower's own sequence of them, else the transformer over that sequence + the extras."""
    tower = stage1.tower
    if tower is None:
        return None
    uidx = int(tower.user_vocab.index([user_id if user_id is not None else -1])[0])
    stored = tower.history(uidx)
    extra = hist[~np.isin(hist, stored)]
    if uidx >= 0 and not len(extra) and stage1.tower_users is not None:
        return stage1.tower_users[uidx]
    seq = tower.history(uidx, extra)
    return np.asarray(tower.encode_users(np.asarray([uidx]), [seq]), np.float32)[0]


def _row(hist: np.ndarray, n: int) -> sp.csr_matrix:
    """(1, n) CSR of the history: ALS folds a user in from it (h non-zeros, no (n,) array)."""
    data = np.ones(len(hist), np.float32)
    return sp.csr_matrix((data, (np.zeros(len(hist), np.int64), hist)), shape=(1, n))


def _profile_vector(
    matrix: np.ndarray, present: np.ndarray, recent: np.ndarray, query: np.ndarray | None
) -> np.ndarray | None:
    """The unit mean of the recent likes' vectors; a text query replaces it (the mood wins)."""
    if query is not None:
        q = np.asarray(query, np.float32)
        return q / max(float(np.linalg.norm(q)), 1e-12)
    rows = recent[present[recent]]
    if not len(rows):
        return None
    mean = matrix[rows].mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else None
