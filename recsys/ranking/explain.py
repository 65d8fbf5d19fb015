"""Reasons from the ranker itself: the feature group that added most to an item's score.

Per-feature contributions (XGBoost's SHAP values) are summed by group (``features.group_of``);
the largest positive group picks the sentence, and X is the liked item nearest to the
candidate in that modality (or, for collaborative groups, the liked item most similar to it
in item-kNN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsys.ranking.features import group_of

MODALITY_WORDS = {"text": "plot", "image": "poster", "video": "trailer", "review_text": "reviews"}


@dataclass(frozen=True)
class Explanation:
    """Why one item is where it is: the sentence, its group and the top contributions."""

    reason: str
    group: str  # "text", "image", "video", "collaborative", "tower", "popular", "fresh", …
    anchor: int  # item index of X in the sentence, -1 when none
    contributions: dict[str, float]  # the largest |contribution| features, name -> value


def explain(
    contribs: np.ndarray,
    names: list[str],
    nearest: dict[str, np.ndarray],
    collab_anchor: np.ndarray,
    titles: list[str],
    query: str | None,
    has_history: bool,
    query_hits: np.ndarray | None = None,
    top: int = 5,
) -> list[Explanation]:
    """One explanation per row of ``contribs`` (R, F).

    ``nearest[m]`` (R,) item index of the nearest liked item in modality m (-1: none);
    ``collab_anchor`` (R,) the liked item most co-watched with each row's item (-1: none).
    ``has_history``: False for a cold request, which no taste-based sentence may claim.
    ``query_hits`` (R,) bool: the row is among the items closest to the text query; such an
    item's reason is the query (a fact the user asked about), whatever else added to it.
    """
    # with a text query the text features measure the query, not the history: one group
    of = [("query" if query and group_of(n) == "text" else group_of(n)) for n in names]
    groups = sorted(set(of))
    gidx = {g: i for i, g in enumerate(groups)}
    member = np.zeros((len(names), len(groups)), np.float32)
    for j, g in enumerate(of):
        member[j, gidx[g]] = 1.0
    by_group = contribs @ member  # (R, G)
    out = []
    for r in range(len(contribs)):
        order = np.argsort(-by_group[r])
        group, anchor = "popular", -1
        if query_hits is not None and query_hits[r]:
            order = np.asarray([gidx["query"]])
        for gi in order:  # the strongest group that can say something concrete
            g = groups[gi]
            if by_group[r, gi] <= 0 and not (query_hits is not None and query_hits[r]):
                break
            a = _anchor(g, r, nearest, collab_anchor)
            needs_x = g in ("collaborative", *MODALITY_WORDS)
            # missing features contribute too (the trees' default branch), so a group can
            # be "strong" for a request that has nothing of it: never claim those
            ungrounded = (g in ("taste", "tower") and not has_history) or (
                g == "query" and not query
            )
            if (needs_x and a < 0) or ungrounded:
                continue  # a sentence this group cannot ground: try the next strongest
            group, anchor = g, a
            break
        strongest = np.argsort(-np.abs(contribs[r]))[:top]
        out.append(
            Explanation(
                _sentence(group, anchor, titles, query),
                group,
                anchor,
                {names[j]: round(float(contribs[r, j]), 4) for j in strongest},
            )
        )
    return out


def _anchor(group: str, r: int, nearest: dict[str, np.ndarray], collab: np.ndarray) -> int:
    if group in nearest:
        return int(nearest[group][r])
    if group in ("collaborative", "tower"):
        return int(collab[r])
    if group == "fresh":
        for m in ("text", "image", "video", "review_text"):
            if m in nearest and nearest[m][r] >= 0:
                return int(nearest[m][r])
    return -1


def _sentence(group: str, anchor: int, titles: list[str], query: str | None) -> str:
    x = titles[anchor] if anchor >= 0 else None
    if group in MODALITY_WORDS and x:
        return f"{MODALITY_WORDS[group]} similar to {x}"
    if group == "collaborative" and x:
        return f"people who liked {x} also liked this"
    if group == "tower":
        return f"fits your viewing history{f' (like {x})' if x else ''}"
    if group == "fresh":
        return f"new release like {x}" if x else "new on the service"
    if group == "query" and query:
        return f"matches “{_clip(query)}”"
    if group == "taste":
        return "matches the genres and years you watch"
    return "popular lately"  # recent (cfg.recent_days) and all-time popularity alike


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
