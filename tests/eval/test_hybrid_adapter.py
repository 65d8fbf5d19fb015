"""The hybrid ranker plugs into the same tuning/evaluation path as the baselines."""

from __future__ import annotations

import numpy as np
import pytest

from eval.baselines.hybrid import hybrid_available, hybrid_baseline
from eval.protocol import evaluate, prepare
from eval.splits import per_user_temporal
from eval.tuning import tune
from recsys.core.interactions import IdVocab


def test_availability_is_reported():
    ok, why = hybrid_available()
    assert isinstance(ok, bool) and (ok or why)


@pytest.mark.slow  # trains the torch model (tiny, one epoch), ~10-30 s on a shared CPU
def test_hybrid_trains_on_train_valid_and_scores(interactions):
    ok, why = hybrid_available()
    if not ok:
        pytest.skip(why)
    split = per_user_temporal(interactions)
    vocab = IdVocab.from_ids(interactions["item_id"])
    content = np.random.default_rng(0).random((len(vocab), 8)).astype(np.float32)
    frames = []

    def vectors(frame):
        frames.append(frame.height)
        return content

    baseline = hybrid_baseline(vectors, "test", {"max_epochs": 1, "dim": 16, "n_layers": 1})
    tuned = tune(baseline, split, vocab, None)
    assert frames == [split.train_valid().height]  # one fit, on train+valid only
    result = evaluate(tuned.model, prepare(split.train_valid(), split.test, vocab), "h", n_boot=0)
    assert 0 <= result.mean("ndcg@10") <= 1
