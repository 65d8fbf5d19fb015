"""The live path's candidates come from `index.candidates` sources built with the snapshot."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

import serving.engine.engine as engine_module
from index.candidates import CandidateRequest, PopularitySource
from serving.engine import RecommendationEngine

USER = 3  # a catalog user with likes and seen items (each user loves one genre)


def user_request(engine: RecommendationEngine, user_id: int):
    """(recent liked ids, seen ids, taste vector) as `recommend` builds them."""
    ids = engine.snap.items.vocab.ids
    liked = engine.snap.histories.liked[user_id]
    recent = liked[-engine_module.HISTORY_WINDOW :]
    seen = ids[engine.snap.histories.seen[user_id]]
    return ids[recent], seen, engine._taste_vector(user_id, recent)


def test_recommendations_come_from_the_sources_proposals(engine, monkeypatch):
    # a small quota (5 k), so the proposals are a strict subset of the 40-item catalog
    monkeypatch.setattr(engine_module, "MIN_BUDGET", 0)
    k = 2
    history, seen, taste = user_request(engine, USER)
    found = engine.snap.candidates.generate(history, seen, taste, None, budget=5 * k)
    proposed = {c.item_id for c in found}
    assert {s for c in found for s in c.sources} == {"ann", "itemknn", "popularity"}
    assert proposed.isdisjoint(seen.tolist())
    assert len(proposed) < len(engine.snap.items) - len(seen)

    recs = engine.recommend(user_id=USER, k=k).items
    assert len(recs) == k and {r.item_id for r in recs} <= proposed


def test_query_source_proposes_with_the_query_vector(engine):
    history, seen, taste = user_request(engine, USER)
    query = engine._embed_query("a haunted house at midnight")
    found = engine.snap.candidates.generate(history, seen, taste, query, budget=3)
    by_query = [c.item_id for c in found if "query" in c.sources]
    # the text index answers with the query, not the taste vector (another space)
    text_ann = engine.snap.candidates.query
    assert text_ann is not None
    best = text_ann.generate(CandidateRequest(exclude=seen, vector=query), 3)
    assert set(best.ids.tolist()) <= set(by_query) and by_query
    assert set(by_query).isdisjoint(seen.tolist())


def test_ann_source_ids_are_catalog_item_ids(engine):
    _, _, taste = user_request(engine, USER)
    ann = engine.snap.candidates.ann
    assert ann is not None and taste is not None
    assert np.isin(ann.index.ids(), engine.snap.items.vocab.ids).all()
    positions, _ = engine.snap.user_space.ann.search(taste, 5)
    proposed = ann.generate(CandidateRequest(vector=taste), 5).ids
    assert proposed.tolist() == engine.snap.items.vocab.ids[positions].tolist()


def test_engine_ranks_only_what_the_sources_propose(engine):
    # sources that know only the Horror items: a Comedy fan must be offered Horror, unseen
    ids = engine.snap.items.vocab.ids
    horror = np.flatnonzero(engine.snap.items.genre_masks["horror"])
    only_horror = PopularitySource(ids[horror], engine.snap.models.popularity[horror])
    sources = replace(engine.snap.candidates, popularity=only_horror, itemknn=None, ann=None)
    restricted = RecommendationEngine(replace(engine.snap, candidates=sources), engine.encoders)
    recs = restricted.recommend(history=[130, 131, 132], seen=[120], k=5).items
    assert len(recs) == 5
    assert {r.item_id for r in recs} <= set(ids[horror].tolist()) - {120}
    assert all(r.title.startswith("Night") for r in recs)
