"""Rows that need no choice: "Popular now" and "New on the service".

Both read what the run's ranking pipeline knows about each item at the end of its training
frame (``stage1.facts``), so the page says what the ranker sees: likes in the recent window
(``recent_days``) and in all, and the pipeline's "fresh" rule (at most ``fresh_max_count``
likes), the one its fresh source and ``cold`` feature use. Titles the catalog gained after the
run have no facts: they are fresh with no likes, and the newest of all.
"""

from __future__ import annotations

import numpy as np

from serving.engine.engine import Recommendation, RecommendationEngine


def popular(engine: RecommendationEngine, k: int) -> list[Recommendation]:
    """Most liked in the recent window, then all time, then by id; never-liked items left out."""
    models = engine.snap.models
    facts = models.pipeline.stage1.facts
    window = models.pipeline.cfg.recent_days
    keep = np.flatnonzero((models.catalog_index >= 0) & (facts.likes > 0))  # pipeline indices
    order = np.lexsort(
        (models.pipeline.vocab.ids[keep], -facts.likes[keep], -facts.recent_likes[keep])
    )[:k]
    rows = []
    for rank, p in enumerate(keep[order], start=1):
        recent = int(facts.recent_likes[p])
        rows.append(
            _row(
                engine,
                int(models.catalog_index[p]),
                float(recent),
                rank,
                f"{recent} like{'s' * (recent != 1)} in the last {window:g} days",
                "popular",
            )
        )
    return rows


def new_titles(engine: RecommendationEngine, k: int) -> list[Recommendation]:
    """Fresh catalog items, newest first.

    Newest: never interacted with (unknown to the run, or unwatched in its frame) first, then
    by the most recent first interaction, then by release year and id, both descending.
    """
    models, items = engine.snap.models, engine.snap.items
    facts = models.pipeline.stage1.facts
    n = len(items)
    likes = np.zeros(n, np.float32)  # (n_catalog,)
    age = np.full(n, np.nan, np.float32)  # days since the first interaction; NaN: none
    pos = models.pipeline_index
    known = pos >= 0
    likes[known] = facts.likes[pos[known]]
    age[known] = facts.age_days[pos[known]]
    fresh = np.flatnonzero(likes <= models.pipeline.cfg.fresh_max_count)  # catalog indices
    age_key = np.where(np.isnan(age[fresh]), -1.0, age[fresh])
    order = np.lexsort((-items.vocab.ids[fresh], -items.years[fresh], age_key))[:k]
    rows = []
    for rank, i in enumerate(fresh[order], start=1):
        n_likes = int(likes[i])
        so_far = f"{n_likes} like{'s' * (n_likes != 1)} so far" if n_likes else "no likes yet"
        rows.append(
            _row(engine, int(i), float(n_likes), rank, f"new on the service, {so_far}", "fresh")
        )
    return rows


def _row(
    engine: RecommendationEngine, idx: int, score: float, rank: int, reason: str, kind: str
) -> Recommendation:
    item_id = int(engine.snap.items.vocab.ids[idx])
    return Recommendation(
        item_id, engine.title(idx), score, rank, reason, engine.poster_url(idx), kind
    )
