"""What one request knows about its user: history, the dense scores sources rank by.

Built once per request (serving) or per evaluated/label user (evaluation, ranker training):
the same function either way. Dense scores are (n,) arrays in the pipeline's item order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recsys.ranking.stage1 import Stage1

EASE_RECENT = 10  # likes behind the "recent EASE" feature: taste now vs. taste overall


@dataclass
class Profile:
    """A user (or anonymous session) as the sources and features see it.

    Attributes:
        history: liked item indices, oldest first (stored history + session likes).
        seen: item indices never to recommend (when the request excludes seen items).
        recent: the last ``recent_likes`` of ``history``.
        query: text-query vector in the text space, or None.
        scores: source name -> (n,) dense scores (-inf = "this source says nothing").
        tower_vector: the user's tower vector (the "tower" source searches FAISS with it),
            None without a tower or history.
    """

    history: np.ndarray
    seen: np.ndarray
    recent: np.ndarray
    query: np.ndarray | None
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    tower_vector: np.ndarray | None = None
    ease_recent: np.ndarray | None = None


def build_profile(
    stage1: Stage1,
    user_id: int | None,
    history: np.ndarray,
    seen: np.ndarray,
    query: np.ndarray | None,
    recent_likes: int,
    fresh_max_count: int,
) -> Profile:
    """Merge the stored history with the session's and compute every source's dense scores."""
    hist, all_seen = stage1.histories.merged(user_id, history, seen)
    recent = hist[-recent_likes:]
    p = Profile(hist, all_seen, recent, query)
    n = len(stage1.vocab)
    none = np.full(n, -np.inf, np.float32)
    facts = stage1.facts
    p.scores["popularity"] = np.log1p(facts.likes)
    p.scores["recent_popularity"] = np.where(
        facts.recent_likes > 0, np.log1p(facts.recent_likes), -np.inf
    ).astype(np.float32)
    if len(hist):
        ease = stage1.ease.score_items(hist)
        p.scores["ease"] = np.where(ease != 0, ease, -np.inf).astype(np.float32)
        p.ease_recent = stage1.ease.score_items(hist[-EASE_RECENT:])
        knn = np.asarray(stage1.itemknn.similarity[hist].sum(axis=0)).ravel()
        p.scores["itemknn"] = np.where(knn > 0, knn, -np.inf).astype(np.float32)
        p.scores["als"] = stage1.als.score(np.zeros(1, np.int64), _row(hist, n))[0]
    else:
        p.scores["ease"] = p.scores["itemknn"] = p.scores["als"] = none
    tower = stage1.tower
    if tower is not None and len(hist):
        uidx = tower.user_vocab.index([user_id if user_id is not None else -1])
        # the tower reads its own stored sequence for a known user plus the session's extras
        seq = tower.history(int(uidx[0]), hist[~np.isin(hist, tower.history(int(uidx[0])))])
        p.tower_vector = np.asarray(tower.encode_users(uidx, [seq]), np.float32)[0]
    fresh = np.zeros(n, np.float32)
    for m, space in stage1.content.items():
        prof = _profile_vector(space.matrix, space.present, recent, query if m == "text" else None)
        if prof is None:
            p.scores[f"content:{m}"] = none
            continue
        cos = space.matrix @ prof
        p.scores[f"content:{m}"] = np.where(space.present, cos, -np.inf).astype(np.float32)
        fresh += np.where(space.present, cos, 0.0)
    if query is not None and "text" in stage1.content:
        p.scores["query"] = p.scores["content:text"]
    is_fresh = facts.likes <= fresh_max_count
    p.scores["fresh"] = np.where(is_fresh & (fresh != 0), fresh, -np.inf).astype(np.float32)
    return p


def _row(hist: np.ndarray, n: int):
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
