"""The ranking pipeline on the genre world (tests/ranking/world.py): known answers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recsys.core.runs import Run
from recsys.ranking import PIPELINE, RankingPipeline, RankRequest, fit_pipeline, load_pipeline
from recsys.ranking.pipeline import COLD, QUERY, WARM
from recsys.ranking.train import label_split
from tests.ranking import world
from tests.ranking.world import CONFIG


def _liked(pipeline, user: int) -> set[int]:
    return set(pipeline.vocab.ids[pipeline.stage1.histories.liked[user]].tolist())


def test_label_split_takes_each_users_latest_chunk():
    frame = world.interactions()
    earlier, later = label_split(frame, 0.25)
    assert earlier.height + later.height <= frame.height  # re-watches are not new labels
    for user in (1, 2, 3):
        a = earlier.filter(earlier["user_id"] == user)["timestamp"].max()
        b = later.filter(later["user_id"] == user)["timestamp"].min()
        assert a <= b  # the label chunk is the user's most recent part
        assert 1 <= later.filter(later["user_id"] == user).height <= 3  # round(12 * 0.25)


def test_known_user_gets_their_genre_and_nothing_seen(pipeline):
    for user in (4, 5, 6, 7):
        ranked = pipeline.recommend(RankRequest(user_id=user, k=5))
        assert len(ranked.item_ids) == 5 and not ranked.cold_start
        seen = set(pipeline.vocab.ids[pipeline.stage1.histories.seen[user]].tolist())
        assert not seen & set(ranked.item_ids.tolist())
        genres = {world.genre_of(int(i)) for i in ranked.item_ids}
        assert genres == {user % len(world.GENRES)}, (user, ranked.item_ids)
        assert np.all(np.diff(ranked.scores) <= 1e-6)  # best first


def test_fresh_titles_are_proposed_by_content_and_ranked(pipeline):
    user = 8  # loves genre 0
    ranked = pipeline.recommend(RankRequest(user_id=user, k=5))
    assert set(world.fresh_ids(0)) <= set(ranked.proposals["fresh"].tolist())
    assert not set(world.fresh_ids(1)) & set(ranked.proposals["fresh"][:3].tolist())
    only_new = np.isin(pipeline.vocab.ids, [i for g in range(4) for i in world.fresh_ids(g)])
    fresh = pipeline.recommend(RankRequest(user_id=user, k=3, allowed=only_new))
    # nobody ever liked a fresh title here, so the ranker knows them by content alone
    assert world.genre_of(int(fresh.item_ids[0])) == 0
    assert len(set(fresh.item_ids.tolist()) & set(world.fresh_ids(0))) >= 2


def test_text_query_without_history_finds_the_genre(pipeline):
    for genre in range(4):
        query = world.genre_direction(genre)
        ranked = pipeline.recommend(RankRequest(query=query, query_text="a mood", k=10))
        precision = np.mean([world.genre_of(int(i)) == genre for i in ranked.item_ids])
        assert precision >= 0.8, (genre, ranked.item_ids)
        assert all(e.group == "query" for e in ranked.explanations[:3])


def test_onboarding_picks_and_anonymous_sessions_use_the_same_pipeline(pipeline):
    picks = tuple(world.item_id(2, j) for j in range(3))
    ranked = pipeline.recommend(RankRequest(history=picks, k=5))
    assert not set(picks) & set(ranked.item_ids.tolist())
    assert np.mean([world.genre_of(int(i)) == 2 for i in ranked.item_ids]) >= 0.8
    cold = pipeline.recommend(RankRequest(k=5))
    assert cold.cold_start and len(cold.item_ids) == 5


def test_filters_and_diversity_are_business_rules_after_ranking(pipeline):
    user = 9
    allowed = np.asarray([world.genre_of(int(i)) == 3 for i in pipeline.vocab.ids])
    ranked = pipeline.recommend(RankRequest(user_id=user, k=5, allowed=allowed))
    assert {world.genre_of(int(i)) for i in ranked.item_ids} == {3}
    plain = pipeline.recommend(RankRequest(user_id=user, k=8))
    diverse = pipeline.recommend(RankRequest(user_id=user, k=8, diversity=0.9))
    assert len(diverse.item_ids) == 8 and diverse.item_ids.tolist() != plain.item_ids.tolist()
    everything = pipeline.recommend(RankRequest(user_id=user, k=200, exclude_seen=False))
    assert _liked(pipeline, user) & set(everything.item_ids.tolist())


def test_reasons_come_from_the_ranker_and_name_a_liked_title(pipeline):
    user = 10
    ranked = pipeline.recommend(RankRequest(user_id=user, k=5))
    titles = {pipeline.titles[i] for i in pipeline.stage1.histories.liked[user]}
    assert len(ranked.explanations) == 5
    for exp in ranked.explanations:
        assert exp.contributions and exp.reason
        if exp.anchor >= 0:
            assert (
                pipeline.titles[exp.anchor] in titles and pipeline.titles[exp.anchor] in exp.reason
            )


def test_candidate_features_record_which_source_proposed_what(pipeline):
    c = pipeline.candidates(RankRequest(user_id=11))
    names = pipeline.names
    ease = c.features[:, names.index("rank:ease")]
    proposed = set(c.results[[r.source for r in c.results].index("ease")].ids.tolist())
    ids = pipeline.vocab.ids[c.items]
    assert all(np.isfinite(ease[ids == i]).all() == (i in proposed) for i in ids)
    assert np.nanmin(ease) == 1.0  # ranks start at 1


def test_saved_and_loaded_pipeline_ranks_identically(pipeline, tmp_path):
    run = Run(tmp_path / "run-x")
    pipeline.save(run.model_dir(PIPELINE))
    loaded = load_pipeline(run)
    for req in (RankRequest(user_id=12, k=10), RankRequest(history=(1000, 1001), k=10)):
        a, b = pipeline.recommend(req), loaded.recommend(req)
        assert a.item_ids.tolist() == b.item_ids.tolist()
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)


def test_a_run_without_a_pipeline_says_how_to_fix_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="recsys train"):
        load_pipeline(Run(tmp_path / "run-empty"))


def test_fresh_slots_put_new_titles_in_the_list(pipeline):
    from dataclasses import replace

    fresh_all = {i for g in range(4) for i in world.fresh_ids(g)}
    plain = pipeline.recommend(RankRequest(user_id=13, k=10))
    pipeline.cfg = replace(pipeline.cfg, fresh_slots=2)
    try:
        slotted = pipeline.recommend(RankRequest(user_id=13, k=10))
    finally:
        pipeline.cfg = replace(pipeline.cfg, fresh_slots=0)
    assert len(slotted.item_ids) == 10
    assert len(set(slotted.item_ids[-2:].tolist()) & fresh_all) == 2  # the last two places
    assert slotted.item_ids[:8].tolist() == [i for i in plain.item_ids if i not in fresh_all][:8]
    pipeline.cfg = replace(pipeline.cfg, fresh_slots=2, fresh_order="content")
    try:
        by_content = pipeline.recommend(RankRequest(user_id=13, k=10))
    finally:
        pipeline.cfg = replace(pipeline.cfg, fresh_slots=0, fresh_order="ranker")
    # the fresh source's two closest titles by content, whatever the ranker thinks of them
    assert by_content.item_ids[-2:].tolist() == by_content.proposals["fresh"][:2].tolist()


def test_older_label_windows_add_training_requests_not_validation_ones(pipeline):
    two = fit_pipeline(
        world.interactions(),
        world.items(),
        world.text_content(),
        replace(CONFIG, label_windows=2, fresh_slots=0),
    )
    one, more = pipeline.info["rankers"]["warm"], two.info["rankers"]["warm"]
    assert more["train_groups"] > one["train_groups"]
    # the held-out users' older windows are dropped: early stopping judges the same requests
    assert more["valid_groups"] == one["valid_groups"]
    assert two.info["label_windows"] == 2


def test_each_kind_of_request_has_its_own_ranker(pipeline):
    """Text queries train apart from few-picks requests (their moods are built from the
    titles that label them, which taught a shared ranker to wait for a query)."""
    assert set(pipeline.rankers) == {WARM, COLD, QUERY}
    query = world.genre_direction(1)
    picks = tuple(world.item_id(2, j) for j in range(2))
    asks = {
        WARM: RankRequest(user_id=4),
        COLD: RankRequest(history=picks),
        QUERY: RankRequest(history=picks, query=query),
    }
    for kind, req in asks.items():
        assert pipeline.ranker_for(pipeline.profile(req)) is pipeline.rankers[kind], kind
    older = {WARM: pipeline.rankers[WARM], COLD: pipeline.rankers[COLD]}  # an earlier run
    legacy = RankingPipeline(pipeline.stage1, older, pipeline.cfg, pipeline.titles)
    assert legacy.ranker_for(legacy.profile(asks[QUERY])) is older[COLD]
