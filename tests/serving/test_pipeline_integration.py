"""The engine over what the real pipeline writes: embed → train (hybrid) → index → serve."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_engine_serves_the_published_pipeline_run(tiny_workspace):
    from features.jobs.embed import run_embed
    from recsys.app.publish import run_index
    from recsys.app.train import run_train
    from recsys.core.runs import Run
    from serving.answers import attach_answers, known_users
    from serving.engine import EncoderPool, RecommendationEngine

    ws = tiny_workspace
    run_embed(ws, modalities=["text", "image"], engine="local")
    run_train(ws, update=False)
    summary = run_index(ws, kind=None)
    engine = RecommendationEngine.load(ws, EncoderPool(device="cpu"))
    users = len(known_users(engine))
    assert f"{2 * users:,} answers precomputed (k = 10, 20)" in summary
    assert attach_answers(engine) == 2 * users  # ranked before publishing, checked at load
    current = Run.current(ws.artifacts_dir)
    assert current is not None and engine.model_version == current.name
    assert engine.index_version.endswith(current.name)
    assert {"text", "image"} <= set(engine.snap.modalities)
    user, _ = engine.demo_users(1)[0]
    recs = engine.recommend(user_id=user, k=5)
    assert len(recs.items) == 5 and not recs.cold_start
    assert not set(engine.user_history(user)) & {r.item_id for r in recs.items}
    assert any("similar to" in r.reason or "liked" in r.reason for r in recs.items)
    item = recs.items[0].item_id
    assert len(engine.similar(item, k=3, modality="image")) == 3
    assert engine.poster_file(item) is not None
