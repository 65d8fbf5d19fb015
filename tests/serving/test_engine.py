"""Engine-level behaviour: published FAISS index, reuse across reloads, MMR, explanations."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.ranking.rules import mmr
from serving.engine import RecommendationEngine


def test_published_index_is_used_and_agrees_with_in_memory(
    serving_ws, encoders, engine, switch_run
):
    from index.base import create_index

    run = switch_run("run-indexed")
    text = engine.snap.modalities["text"]
    ids = engine.snap.items.vocab.ids[text.present]
    create_index("faiss-flat").build(ids, text.matrix[text.present]).save(
        run.index_dir, lineage={"source": "item_text"}
    )
    published = RecommendationEngine.load(serving_ws, encoders, previous=engine)
    assert published.index_version == "faiss-flat@run-indexed"
    assert published.snap.modalities["text"] is text  # unchanged table reused, not rebuilt
    assert published.modality("text").ann.published  # "more like this" searches it too
    item = int(ids[0])
    a = [r.item_id for r in published.similar(item, k=5, modality="text")]
    assert a == [r.item_id for r in engine.similar(item, k=5, modality="text")]  # exact, both
    for user in (1, 2, 3):
        a = [r.item_id for r in published.recommend(user_id=user, k=5).items]
        b = [r.item_id for r in engine.recommend(user_id=user, k=5).items]
        assert a == b


def test_mmr_zero_diversity_keeps_order_and_high_diversity_spreads():
    vecs = np.asarray([[1, 0], [1, 0], [0.99, 0.14], [0, 1]], np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    cands, rel = np.arange(4), np.asarray([1.0, 0.9, 0.8, 0.5])
    assert mmr(cands, rel, vecs, 2, 0.0).tolist() == [0, 1]
    assert mmr(cands, rel, vecs, 2, 0.7).tolist() == [0, 3]


def test_session_history_overrides_cold_start(engine):
    cold = engine.recommend(user_id=424242, k=3)
    assert cold.cold_start and all(r.reason_kind in ("popular", "fresh") for r in cold.items)
    warm = engine.recommend(user_id=424242, history=[130, 131, 132], k=3)
    assert not warm.cold_start
    assert all(r.title.startswith("Laughs") for r in warm.items)
    assert {130, 131, 132}.isdisjoint(r.item_id for r in warm.items)


def test_the_load_readies_text_queries_and_survives_a_missing_text_encoder(serving_ws, encoders):
    from serving.engine import EncoderPool
    from serving.engine.encoders import EncoderUnavailable

    fresh = EncoderPool("minilm", device="cpu")
    RecommendationEngine.load(serving_ws, fresh)
    assert "minilm" in fresh._cache  # loaded by the load's trial, not by the first query
    missing = EncoderPool("no-such-encoder", device="cpu")
    engine = RecommendationEngine.load(serving_ws, missing)  # text queries fail, nothing else
    assert engine.recommend(user_id=1, k=3).items
    with pytest.raises(EncoderUnavailable, match="no-such-encoder"):
        engine.recommend(text="a space adventure", k=3)
