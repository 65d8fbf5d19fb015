"""Known-answer tests for the baselines and the validation-only tuning."""

from __future__ import annotations

import numpy as np
import pytest

from eval.baselines import Baseline, collaborative_baselines, content_baseline
from eval.protocol import evaluate, prepare, rank
from eval.tuning import tune
from recsys.core.interactions import IdVocab
from recsys.core.splits import leave_last_out
from recsys.models.als import ALS
from recsys.models.content_knn import ContentKNN
from recsys.models.ease import EASE
from recsys.models.itemknn import ItemKNN

FITS = {
    "ease": lambda f, v: EASE.fit(f, v, lam=1.0),
    "itemknn": lambda f, v: ItemKNN.fit(f, v, neighbours=10),
    "als": lambda f, v: ALS.fit(f, v, factors=4, regularization=0.1, iterations=30),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_held_out_item_ranks_first(blocks, name):
    split = leave_last_out(blocks)
    vocab = IdVocab.from_ids(blocks["item_id"])
    model = FITS[name](split.train_valid(), vocab)
    data = prepare(split.train_valid(), split.test, vocab)
    top = rank(model, data, 1)[:, 0]
    held_out = vocab.index(split.test.sort("user_id")["item_id"].to_numpy())
    np.testing.assert_array_equal(top, held_out)
    result = evaluate(model, data, name, ks=(1,), n_boot=50)
    assert result.mean("recall@1") == 1.0


def test_content_knn_ranks_same_block(blocks):
    split = leave_last_out(blocks)
    vocab = IdVocab.from_ids(blocks["item_id"])
    vectors = np.eye(3)[vocab.ids // 5] + 0.01 * np.random.default_rng(0).random((15, 3))
    model = ContentKNN(vocab, vectors)
    data = prepare(split.train_valid(), split.test, vocab)
    result = evaluate(model, data, "content", ks=(1,), n_boot=0, item_vectors=vectors)
    assert result.mean("hitrate@1") == 1.0  # only one unseen item per block is left
    assert result.beyond["diversity@1"] is None  # needs two items per list


def test_tuning_uses_valid_only(blocks):
    split = leave_last_out(blocks)
    vocab = IdVocab.from_ids(blocks["item_id"])
    frames = []

    def fit(frame, item_vocab, good: bool):
        frames.append(frame.height)
        # "good" ranks each user's block well; "bad" reverses the scores
        model = EASE.fit(frame, item_vocab, lam=1.0)
        if not good:
            model.weights = -model.weights
        return model

    grid = [{"good": False}, {"good": True}]
    valid_data = prepare(split.train, split.valid, vocab)
    tuned = tune(Baseline("toy", fit, grid), split, vocab, valid_data)
    assert tuned.params == {"good": True}
    assert [p for p, _ in tuned.valid_scores] == grid
    # two grid fits on train, then one refit on train+valid; the test frame is never used
    assert frames == [split.train.height] * 2 + [split.train_valid().height]


def test_registry_and_save_load(tmp_path, blocks):
    vocab = IdVocab.from_ids(blocks["item_id"])
    names = [b.name for b in collaborative_baselines("fast")]
    assert names == ["popularity", "itemknn", "ease", "als"]
    with pytest.raises(ValueError, match="unknown grid"):
        collaborative_baselines("huge")
    assert content_baseline(np.ones((15, 2)), "text").name == "content_knn[text]"
    for name, fit in FITS.items():
        model = fit(blocks, vocab)
        model.save(tmp_path / name)
        loaded = type(model).load(tmp_path / name)
        hist = np.ones((1, 15))
        import scipy.sparse as sp

        users = np.array([-1])
        np.testing.assert_allclose(
            model.score(users, sp.csr_matrix(hist)),
            loaded.score(users, sp.csr_matrix(hist)),
            rtol=1e-5,
        )


def test_fast_grid_tunes_ease_on_both_signals(blocks):
    split = leave_last_out(blocks)
    vocab = IdVocab.from_ids(blocks["item_id"])
    ease = next(b for b in collaborative_baselines("fast") if b.name == "ease")
    tuned = tune(ease, split, vocab, prepare(split.train, split.valid, vocab))
    tried = [p for p, _ in tuned.valid_scores]
    assert tried[: len(ease.grid)] == ease.grid  # the whole grid, liked and all, then edges
    assert {p["signal"] for p in tried} == {"liked", "all"}
    assert tuned.params in tried and isinstance(tuned.model, EASE)
    best = max(s for _, s in tuned.valid_scores)
    assert next(s for p, s in tuned.valid_scores if p == tuned.params) == best
    for params in tried[len(ease.grid) :]:  # extensions change lam only, from a grid edge
        assert params["lam"] < 50.0 or params["lam"] > 1000.0
    assert set(tuned.extended) <= {"lam"} and set(tuned.at_edge) <= set(tuned.extended)
