"""One behavioural suite, run against every registered Index implementation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index.base import INDEXES, _ensure_registered, create_index, load_index

_ensure_registered()
KINDS = sorted(INDEXES)


@pytest.fixture(scope="module", params=KINDS)
def built(request, item_data):
    ids, vectors = item_data
    return create_index(request.param).build(ids, vectors)


def test_all_kinds_registered():
    assert KINDS == ["faiss-flat", "faiss-hnsw", "faiss-ivfpq"]


def test_stored_vector_finds_itself_first(built, item_data):
    ids, vectors = item_data
    found, scores = built.search(vectors[:20], k=10)
    assert found.shape == (20, 10) and found.dtype == np.int64
    np.testing.assert_array_equal(found[:, 0], ids[:20])
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-4)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first


def test_exclusion_still_returns_k(built, item_data):
    ids, vectors = item_data
    plain, _ = built.search(vectors[:2], k=10)
    exclude = [plain[0, :8], np.array([], dtype=np.int64)]  # hide the 8 nearest of query 0
    found, scores = built.search(vectors[:2], k=10, exclude=exclude)
    assert (found >= 0).all()  # still k results
    assert not np.isin(found[0], exclude[0]).any()
    np.testing.assert_array_equal(found[1], plain[1])
    assert np.isfinite(scores).all()


def test_k_beyond_catalog_pads_with_minus_one(built, item_data):
    ids, vectors = item_data
    found, scores = built.search(vectors[:1], k=len(ids) + 5, exclude=[ids[:3]])
    real = found[0][found[0] >= 0]
    assert len(real) == len(ids) - 3  # every non-excluded item comes back
    assert set(real.tolist()) == set(ids[3:].tolist())
    assert (found[0][len(real) :] == -1).all() and np.isneginf(scores[0][len(real) :]).all()


def test_save_load_round_trip(built, item_data, tmp_path):
    ids, vectors = item_data
    built.save(tmp_path / "ix", lineage={"source": "test", "table_version": 3})
    loaded = load_index(tmp_path / "ix")
    assert type(loaded) is type(built)
    before = built.search(vectors[:30], k=15, exclude=[ids[:5]] * 30)
    after = loaded.search(vectors[:30], k=15, exclude=[ids[:5]] * 30)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_allclose(before[1], after[1], rtol=1e-6)
    mapped = load_index(tmp_path / "ix", mmap=True)  # serving replicas mmap the file
    np.testing.assert_array_equal(
        mapped.search(vectors[:30], k=15)[0], built.search(vectors[:30], k=15)[0]
    )


def test_manifest_content(built, tmp_path):
    built.save(tmp_path / "ix", lineage={"source": "item_text"})
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["kind"] == built.kind
    assert manifest["dim"] == 32 and manifest["count"] == 400
    assert manifest["metric"] == "ip"
    assert manifest["lineage"] == {"source": "item_text"}
    assert manifest["format_version"] == 1 and manifest["faiss_version"]
    assert "created_at" in manifest and "params" in manifest and "config" in manifest


def test_reconstruct_by_id(built, item_data):
    ids, vectors = item_data
    np.testing.assert_allclose(built.reconstruct(ids[[5, 2]]), vectors[[5, 2]], atol=1e-6)
    assert sorted(built.ids().tolist()) == sorted(ids.tolist())
    with pytest.raises(KeyError, match="999999"):
        built.reconstruct(np.array([999999]))


def test_bad_input_is_rejected(item_data):
    ids, vectors = item_data
    index = create_index(KINDS[0])
    with pytest.raises(ValueError, match="duplicate"):
        recsys.app.publish(np.zeros(len(ids), np.int64), vectors)
    bad = vectors.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match=str(ids[3])):
        recsys.app.publish(ids, bad)
    with pytest.raises(KeyError, match="unknown index kind"):
        create_index("annoy")
    built = recsys.app.publish(ids, vectors)
    with pytest.raises(ValueError, match="dim"):
        built.search(np.zeros((1, 7), np.float32), k=3)


def test_l2_metric_scores_are_negated_distances(item_data):
    ids, vectors = item_data
    for kind in KINDS:
        index = create_index(kind).build(ids, vectors, metric="l2")
        found, scores = index.search(vectors[:5], k=3)
        np.testing.assert_array_equal(found[:, 0], ids[:5])
        np.testing.assert_allclose(scores[:, 0], 0.0, atol=1e-4)  # -||x - x||^2
        assert (scores <= 1e-4).all() and index.metric == "l2"
