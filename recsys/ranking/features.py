"""(user, candidate) feature rows the ranker scores; NaN = "missing" (XGBoost's default).

``feature_names(modalities)`` fixes the column order; ``assemble`` fills it for one profile
and its candidates. ``GROUPS`` maps each column to what it says about the item, which is
how explanations are grouped ("plot similar to …", "popular lately", …).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recsys.ranking.profile import Profile
from recsys.ranking.scores import ease_at, rowdot
from recsys.ranking.stage1 import Stage1

EASE_RECENT = 10  # likes behind the "recent EASE" feature: taste now vs. taste overall

SOURCES = ("ease", "itemknn", "als", "tower", "fresh", "recent_popularity", "popularity", "query")
ITEM = ("pop_all", "pop_recent", "age_days", "year", "likes", "cold", "mean_rating", "n_ratings")
USER = ("user_likes", "year_gap", "genre_affinity", "genre_max")
SCORES = ("ease", "ease_recent", "itemknn", "als", "tower")


def feature_names(modalities: list[str]) -> list[str]:
    sources = [*SOURCES[:4], *(f"content:{m}" for m in modalities), *SOURCES[4:]]
    stats = ("cos_max", "cos_mean", "cos_z")
    cosines = [f"{stat}:{m}" for m in modalities for stat in stats]
    return [
        *(f"score:{s}" for s in SCORES),
        *(f"rank:{s}" for s in sources),
        *cosines,
        *ITEM,
        *USER,
    ]


def group_of(name: str) -> str:
    """The explanation group of a feature: a modality, "collaborative", "popular", …"""
    kind, _, rest = name.partition(":")
    if kind in ("cos_max", "cos_mean", "cos_z"):
        return rest
    if kind in ("score", "rank"):
        if rest.startswith("content:"):
            return rest.split(":", 1)[1]
        return {
            "ease": "collaborative",
            "ease_recent": "collaborative",
            "itemknn": "collaborative",
            "als": "collaborative",
            "tower": "tower",
            "fresh": "fresh",
            "recent_popularity": "popular",
            "popularity": "popular",
            "query": "query",
        }[rest]
    if name in ("pop_recent",):
        return "popular"
    if name in ("pop_all", "likes", "mean_rating", "n_ratings"):
        return "popular"
    if name in ("age_days", "cold"):
        return "fresh"
    return "taste"


def _collaborative(
    stage1: Stage1, profile: Profile, cands: np.ndarray, put: Callable[[str, np.ndarray], None]
) -> None:
    """``score:{ease,ease_recent,itemknn,als}`` of the candidates: the history's rows at the
    candidates' columns, or the user factor against their factors. Without a history they
    are 0 (the model has nothing to say), except ``ease_recent`` (missing); without an EASE
    model (``ease_max_items``) the EASE columns are missing."""
    zeros = np.zeros(len(cands), np.float32)
    hist = profile.history
    if stage1.ease is not None:
        put("score:ease", profile.ease.at(cands) if profile.ease is not None else zeros)
        if len(hist):
            put("score:ease_recent", ease_at(stage1.ease, hist[-EASE_RECENT:], cands))
    put("score:itemknn", profile.itemknn.at(cands) if profile.itemknn is not None else zeros)
    uf = profile.user_factor
    put("score:als", rowdot(stage1.als.item_factors[cands], uf) if uf is not None else zeros)


def assemble(
    stage1: Stage1,
    profile: Profile,
    cands: np.ndarray,
    ranks: dict[str, np.ndarray],
    names: list[str],
    fresh_max_count: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Features (C, F) float32 of ``cands`` (item indices) for ``profile``.

    ``ranks`` maps a source to the item indices it proposed, best first. Also returns, per
    modality, the position in ``profile.recent`` of each candidate's nearest liked item (the
    "X" of "plot similar to X"; -1 when unknown).
    """
    c = len(cands)
    col = {n: i for i, n in enumerate(names)}
    out = np.full((c, len(names)), np.nan, np.float32)

    def put(name: str, values) -> None:
        if name in col:
            out[:, col[name]] = values

    _collaborative(stage1, profile, cands, put)
    if stage1.tower is not None and profile.tower_vector is not None:
        put("score:tower", stage1.tower.item_vectors()[cands] @ profile.tower_vector)
    for source, proposed in ranks.items():
        if f"rank:{source}" in col and len(proposed):
            order = np.argsort(proposed, kind="stable")
            pos = np.minimum(np.searchsorted(proposed[order], cands), len(order) - 1)
            hit = proposed[order][pos] == cands
            put(f"rank:{source}", np.where(hit, order[pos] + 1.0, np.nan))
    nearest: dict[str, np.ndarray] = {}
    recent = profile.recent
    for m, space in stage1.content.items():
        liked = recent[space.present[recent]] if len(recent) else recent
        if profile.query is not None and m == "text":
            q = profile.query / max(float(np.linalg.norm(profile.query)), 1e-12)
            sims = (space.matrix[cands] @ q)[:, None]  # (C, 1): the mood stands in for likes
        elif len(liked):
            sims = space.matrix[cands] @ space.matrix[liked].T  # (C, h)
        else:
            continue
        has = space.present[cands]
        best = np.where(has, sims.max(axis=1), np.nan)
        put(f"cos_max:{m}", best)
        put(f"cos_mean:{m}", np.where(has, sims.mean(axis=1), np.nan))
        # the same closeness relative to this request's other candidates: a short text query
        # sits farther from every item than a liked title does, the order within it not
        if np.isfinite(best).sum() > 1:
            put(f"cos_z:{m}", (best - np.nanmean(best)) / max(float(np.nanstd(best)), 1e-6))
        if profile.query is None or m != "text":
            pos = np.flatnonzero(space.present[recent])
            # an item is never "similar to" itself (seen items shown with exclude_seen off)
            others = np.where(cands[:, None] == liked[None, :], -np.inf, sims)
            found = has & np.isfinite(others.max(axis=1))
            nearest[m] = np.where(found, pos[others.argmax(axis=1)], -1)
    f = stage1.facts
    put("pop_all", np.log1p(f.likes[cands]))
    put("pop_recent", np.log1p(f.recent_likes[cands]))
    put("age_days", f.age_days[cands])
    put("year", f.year[cands])
    put("likes", f.likes[cands])
    put("cold", (f.likes[cands] <= fresh_max_count).astype(np.float32))
    put("mean_rating", f.mean_rating[cands])
    put("n_ratings", np.log1p(f.n_ratings[cands]))
    hist = profile.history
    put("user_likes", np.full(c, np.log1p(len(hist)), np.float32))
    if len(hist):
        years = f.year[hist]
        if np.isfinite(years).any():
            put("year_gap", np.abs(f.year[cands] - np.nanmean(years)))
        taste = np.asarray(f.genres[hist].sum(axis=0)).ravel() / len(hist)  # (G,) genre shares
        item_g = f.genres[cands]  # (C, G)
        n_g = np.maximum(np.asarray(item_g.sum(axis=1)).ravel(), 1)
        put("genre_affinity", np.asarray(item_g @ taste).ravel() / n_g)
        put("genre_max", item_g.multiply(taste[None, :]).max(axis=1).toarray().ravel())
    return out, nearest
