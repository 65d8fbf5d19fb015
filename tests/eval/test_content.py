"""Item vectors for evaluation leak nothing from the test: interaction-derived ones are refitted
per fit frame, and content is read as of the split's cut-off (no tag written after it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from eval.content import ItemContent, content_cutoff
from recsys.core.interactions import IdVocab
from recsys.core.splits import Split, cold_item


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


def test_content_cutoff_is_the_earliest_test_start(make_frame):
    day = timedelta(days=1)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)

    def split(test_days, t_test=None) -> Split:
        train = make_frame([(1, 1, 0, None)])
        test = make_frame([(1, 2, d, None) for d in test_days])
        return Split(train, train.clear(), test, {"T_test": str(t_test)} if t_test else {})

    assert content_cutoff(split([9, 4, 7])) == t0 + 4 * day
    # a declared T_test earlier than the first test row kept (cold_item) is the cut-off
    assert content_cutoff(split([9, 4], t_test=t0 + 3 * day)) == t0 + 3 * day
    assert content_cutoff(split([9, 4]), split([6])) == t0 + 4 * day  # shared: the earliest
    assert content_cutoff(split([])) is None  # no test: nothing to leak into


def test_cold_item_cutoff_is_its_t_test(interactions):
    split = cold_item(interactions)
    t_test = datetime.fromisoformat(split.description["T_test"])
    # the first row at T_test was an unknown user's and left the test: T_test still counts
    assert split.test["timestamp"].min() > t_test and content_cutoff(split) == t_test


def test_from_store_reads_text_as_of_the_cutoff(tmp_path):
    from features.store import FeatureStore

    tagged = datetime(2024, 3, 1, tzinfo=UTC)
    store = FeatureStore(str(tmp_path / "lancedb"))
    base, full = np.eye(2, dtype=np.float32)
    rows = {"encoder": "enc", "encoder_version": "v1", "job_id": "j1"}
    store.write("item", "text", [5], full[None], content_hashes=["f"], valid_from=[tagged], **rows)
    store.write("item", "text", [5], base[None], content_hashes=["b"], **rows)  # undated
    vocab = IdVocab.from_ids([5])
    before = ItemContent.from_store(store.uri, vocab, as_of=tagged - timedelta(days=1))
    np.testing.assert_allclose(before.static_vectors("text"), [base])
    assert any("as of 2024-02-29" in n for n in before.notes)
    after = ItemContent.from_store(store.uri, vocab, as_of=tagged)
    np.testing.assert_allclose(after.static_vectors("text"), [full])
    np.testing.assert_allclose(ItemContent.from_store(store.uri, vocab).static["text"], [full])
