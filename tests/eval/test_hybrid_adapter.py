"""The hybrid ranker plugs into the same tuning/evaluation path as the baselines."""

from __future__ import annotations

import numpy as np

from eval.baselines.hybrid import hybrid_baseline
from eval.protocol import evaluate, prepare
from eval.tuning import tune
from recsys.core.interactions import IdVocab
from recsys.core.splits import per_user_temporal
from recsys.models.hybrid import HybridRecommender


def test_hybrid_trains_on_train_valid_and_scores(interactions):
    split = per_user_temporal(interactions)
    vocab = IdVocab.from_ids(interactions["item_id"])
    content = np.random.default_rng(0).random((len(vocab), 8)).astype(np.float32)
    frames = []

    def vectors(frame):
        frames.append(frame.height)
        return content

    overrides = {"max_epochs": 1, "dim": 16, "n_layers": 1}
    tuned = tune(hybrid_baseline(vectors, "test", overrides), split, vocab, None)
    assert frames == [split.train_valid().height]  # one fit, on train+valid only
    assert isinstance(tuned.model, HybridRecommender) and tuned.model.config.dim == 16
    result = evaluate(tuned.model, prepare(split.train_valid(), split.test, vocab), "h", n_boot=0)
    assert 0 <= result.mean("ndcg@10") <= 1
