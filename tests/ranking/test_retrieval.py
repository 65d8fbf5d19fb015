"""Per-request work bounded by the candidate budget: the indexes, sparse row sums and fixed
orders propose exactly what a scan of every catalog item would, and the features read the
same numbers (tests/ranking/world.py: the genre world)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from index.candidates.base import top_ids
from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from recsys.ranking import PIPELINE, RankingPipeline, RankRequest, load_pipeline
from recsys.ranking.features import EASE_RECENT
from recsys.ranking.profile import Profile, build_profile
from recsys.ranking.stage1 import Stage1, fit_stage1, known_user_vectors
from tests.ranking import world


def scan(p: RankingPipeline, profile: Profile) -> dict[str, np.ndarray]:
    """Every source's scores over the whole catalog (-inf: says nothing): the definition."""
    s1, n, hist = p.stage1, len(p.vocab), profile.history
    none = np.full(n, -np.inf, np.float32)
    out = {
        "popularity": np.log1p(s1.facts.likes),
        "recent_popularity": np.where(
            s1.facts.recent_likes > 0, np.log1p(s1.facts.recent_likes), -np.inf
        ).astype(np.float32),
        "ease": none,
        "itemknn": none,
        "als": none,
    }
    if len(hist):
        assert s1.ease is not None
        ease = s1.ease.score_items(hist)
        out["ease"] = np.where(ease != 0, ease, -np.inf).astype(np.float32)
        knn = np.asarray(s1.itemknn.similarity[hist].sum(axis=0)).ravel()
        out["itemknn"] = np.where(knn > 0, knn, -np.inf).astype(np.float32)
        row = sp.csr_matrix((np.ones(len(hist)), (np.zeros(len(hist), int), hist)), (1, n))
        out["als"] = s1.als.score(np.zeros(1, np.int64), row)[0]
    fresh = np.zeros(n, np.float32)
    for m, space in s1.content.items():
        if m not in profile.content:
            out[f"content:{m}"] = none
            continue
        cos = space.matrix @ profile.content[m]
        out[f"content:{m}"] = np.where(space.present, cos, -np.inf).astype(np.float32)
        fresh += np.where(space.present, cos, 0.0)
    if profile.query is not None:
        out["query"] = out["content:text"]
    young = s1.facts.likes <= p.cfg.fresh_max_count
    out["fresh"] = np.where(young & (fresh != 0), fresh, -np.inf).astype(np.float32)
    return out


REQUESTS = {
    "known user": RankRequest(user_id=3),
    "filtered": RankRequest(user_id=5, allowed=np.arange(len(world.items())) % 3 != 0),
    "seen shown": RankRequest(user_id=6, exclude_seen=False),
    "onboarding": RankRequest(history=(1000, 1001, 1102)),
    "text query": RankRequest(query=world.genre_direction(2), query_text="a mood"),
    "nothing": RankRequest(),
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_each_source_proposes_what_a_full_scan_would(pipeline, name):
    req = REQUESTS[name]
    profile = pipeline.profile(req)
    reference, ids = scan(pipeline, profile), pipeline.vocab.ids
    exclude = ids[profile.seen] if req.exclude_seen else ids[:0]
    asked = 0  # the generator asks each source for its quota plus every earlier one
    results = pipeline.propose(profile, req)
    assert [r.source for r in results] == [s for s in pipeline.source_order() if s in reference]
    for r in results:
        asked += pipeline.cfg.quota(r.source)
        want = top_ids(ids, reference[r.source], asked, exclude, r.source, req.allowed)
        assert r.ids.tolist() == want.ids.tolist(), r.source
        np.testing.assert_allclose(r.scores, want.scores, rtol=1e-6, err_msg=r.source)


@pytest.mark.parametrize("name", ["known user", "onboarding", "nothing"])
def test_collaborative_features_are_the_full_scores_at_the_candidates(pipeline, name):
    c = pipeline.candidates(REQUESTS[name])
    reference, col = scan(pipeline, c.profile), pipeline.names.index
    for source in ("ease", "itemknn", "als"):
        dense = reference[source][c.items]
        got = c.features[:, col(f"score:{source}")]
        np.testing.assert_allclose(got, np.where(np.isfinite(dense), dense, 0.0), rtol=1e-6)
    recent = c.features[:, col("score:ease_recent")]
    if len(c.profile.history):
        assert pipeline.stage1.ease is not None
        full = pipeline.stage1.ease.score_items(c.profile.history[-EASE_RECENT:])
        np.testing.assert_allclose(recent, full[c.items], rtol=1e-6)
    else:
        assert np.isnan(recent).all()  # no history: missing, not zero


def test_above_ease_max_items_stage1_skips_ease_and_the_pipeline_ranks_without_it(
    pipeline, tmp_path
):
    lines: list[str] = []
    cfg = replace(world.CONFIG, ease_max_items=10)
    items, vocab = world.items(), IdVocab.from_ids(world.items()["item_id"])
    stage1 = fit_stage1(world.interactions(), items, vocab, {}, cfg, 500.0, lines.append)
    assert stage1.ease is None and any("EASE skipped" in line for line in lines)
    without = RankingPipeline(
        replace(pipeline.stage1, ease=None), pipeline.rankers, pipeline.cfg, pipeline.titles
    )
    ranked = without.recommend(RankRequest(user_id=4, k=5))
    assert len(ranked.item_ids) == 5 and "ease" not in ranked.proposals
    c = without.candidates(RankRequest(user_id=4))
    for column in ("score:ease", "score:ease_recent", "rank:ease"):
        assert np.isnan(c.features[:, without.names.index(column)]).all()
    run = Run(tmp_path / "run-no-ease")
    without.save(run.model_dir(PIPELINE))
    again = load_pipeline(run).recommend(RankRequest(user_id=4, k=5))
    assert again.item_ids.tolist() == ranked.item_ids.tolist()


class CountingTower:
    """A stand-in tower: a user's vector is the sum of its sequence's item indices."""

    def __init__(self, stored: dict[int, list[int]]):
        self.user_vocab = IdVocab.from_ids(list(stored))
        self._rows = [np.asarray(stored[u], np.int64) for u in self.user_vocab.ids]
        self.encoded: list[list[int]] = []  # every sequence the "transformer" ran over

    def history(self, user: int, extra: np.ndarray | None = None) -> np.ndarray:
        seq = self._rows[user] if user >= 0 else np.zeros(0, np.int64)
        if extra is not None and len(extra):
            seq = np.concatenate([seq, extra[~np.isin(extra, seq)]])
        return seq

    def encode_users(self, users: np.ndarray, sequences: list[np.ndarray]) -> np.ndarray:
        self.encoded += [s.tolist() for s in sequences]
        return np.asarray([[float(s.sum()), 1.0] for s in sequences], np.float32)


def test_known_users_tower_vectors_are_stored_and_the_transformer_runs_only_for_news(pipeline):
    user = 7
    liked = pipeline.stage1.histories.liked[user]
    tower = CountingTower({user: liked.tolist(), 8: [1, 2]})
    stored = known_user_vectors(tower)
    np.testing.assert_array_equal(stored[:, 0], [liked.sum(), 3])  # each user's own sequence
    tower.encoded.clear()
    stage1: Stage1 = replace(pipeline.stage1, tower=tower, tower_users=stored * 10)

    def vector(**kw) -> np.ndarray:
        p = build_profile(stage1, kw.get("user"), kw.get("history", liked[:0]), liked[:0], None, 20)
        assert p.tower_vector is not None
        return p.tower_vector

    # nothing new (the session repeats stored likes): the stored vector, no transformer
    np.testing.assert_array_equal(vector(user=user, history=liked[:3]), stored[0] * 10)
    assert tower.encoded == []
    extra = np.setdiff1d(np.arange(len(pipeline.vocab)), liked)[:2]
    news = vector(user=user, history=extra)  # new likes: stored sequence + the extras
    assert tower.encoded == [[*liked.tolist(), *extra.tolist()]]
    assert news[0] == liked.sum() + extra.sum()
    vector(history=extra)  # an anonymous session always runs it
    assert tower.encoded[-1] == extra.tolist()


def test_approximate_indexes_are_saved_with_the_pipeline_and_loaded_not_rebuilt(
    pipeline, tmp_path, monkeypatch
):
    exact_run = Run(tmp_path / "run-flat")
    pipeline.save(exact_run.model_dir(PIPELINE))
    assert not (exact_run.model_dir(PIPELINE) / "indexes").exists()  # flat: rebuilt in ms
    cfg = replace(pipeline.cfg, index={"flat_max_items": 0})  # HNSW even for 72 items
    hnsw = RankingPipeline(pipeline.stage1, pipeline.rankers, cfg, pipeline.titles)
    assert {i.kind for i in hnsw.retrieval.indexes.values()} == {"faiss-hnsw"}
    run = Run(tmp_path / "run-hnsw")
    hnsw.save(run.model_dir(PIPELINE))
    saved = sorted(p.name for p in (run.model_dir(PIPELINE) / "indexes").iterdir())
    assert saved == sorted(hnsw.retrieval.indexes) == ["als", "content-text", "fresh"]

    def no_build(*_args, **_kw):
        raise AssertionError("a saved index was rebuilt")

    monkeypatch.setattr("recsys.ranking.retrieval.create_index", no_build)
    loaded = load_pipeline(run)
    for req in (RankRequest(user_id=14, k=10), RankRequest(history=(1203,), k=10)):
        a, b = hnsw.recommend(req), loaded.recommend(req)
        assert a.item_ids.tolist() == b.item_ids.tolist()
        assert {s: v.tolist() for s, v in a.proposals.items()} == {
            s: v.tolist() for s, v in b.proposals.items()
        }
