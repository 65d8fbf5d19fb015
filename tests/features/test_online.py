"""The in-memory online snapshot answers exactly like the LanceDB-backed ``FeatureStore.get``."""

from __future__ import annotations

import numpy as np

from features.store import FeatureStore
from features.store.online import OnlineFeatures


def test_online_lookup_matches_store_get(tmp_path):
    store = FeatureStore(str(tmp_path / "db"))
    ids = np.array([5, 1, 9, 3], dtype=np.int64)
    vectors = np.arange(8, dtype=np.float32).reshape(4, 2)
    store.write(
        "item",
        "text",
        ids,
        vectors,
        encoder="t",
        encoder_version="v1",
        content_hashes=["a", "b", "c", "d"],
        job_id="j",
    )
    online = OnlineFeatures(store, "item", ["text", "image"])

    wanted = [9, 1, 42]
    got = online.get(wanted)["text"]
    expected = store.get("item", wanted, ["text"])["text"]

    assert got[0].tolist() == expected[0].tolist() == [1, 9]
    np.testing.assert_array_equal(got[1], expected[1])
    assert online.modalities == ["text"]  # absent tables are skipped, not errors
    assert online.get([1], ["image"])["image"][0].size == 0
