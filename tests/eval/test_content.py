"""Interaction-derived item vectors are refitted per fit frame (no test leakage)."""

from __future__ import annotations

import numpy as np
import pytest

from eval.content import ItemContent
from eval.splits import cold_item
from recsys.core.interactions import IdVocab


def test_ratings_and_fused_use_only_the_fit_frame(interactions):
    vocab = IdVocab.from_ids(interactions["item_id"])
    text = np.random.default_rng(0).random((len(vocab), 4)).astype(np.float32)
    content = ItemContent({"text": text, "fused": text}, vocab)
    assert content.modalities == ["text", "ratings"]
    assert any("not used" in n for n in content.notes)  # the store's fused copy is refused
    split = cold_item(interactions)
    cold = vocab.index(split.test["item_id"].unique().to_numpy())
    ratings = content.for_frame("ratings", split.train)
    # refitted on train, cold items carry no information from their test interactions,
    # unlike vectors fitted on all interactions (what the store's item_ratings holds)
    full = content.for_frame("ratings", interactions)
    assert not np.allclose(full[cold], ratings[cold], atol=1e-3)
    assert content.for_frame("ratings", split.train) is ratings  # cached per frame
    fused = content.for_frame("fused", split.train)
    assert fused.shape[0] == len(vocab) and fused.shape[1] == 4 + ratings.shape[1]
    assert content.for_frame("text", split.train) is text
    assert content.ablation_specs() == ["text", "text+ratings", "ratings"]
    with pytest.raises(KeyError, match="not available"):
        content.for_frame("video", split.train)
