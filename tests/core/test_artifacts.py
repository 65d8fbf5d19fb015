"""Model arrays on disk: one .npy per array, memory-mapped back, and the old npz still read."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.core.artifacts import (
    load_arrays,
    save_arrays,
    sparse_from_arrays,
    sparse_to_arrays,
)


def _arrays() -> dict[str, np.ndarray]:
    sim = sp.csr_matrix(np.array([[0, 0.5, 0], [0.25, 0, 0], [0, 0, 1]], np.float32))
    return {
        "item_ids": np.array([3, 7, 11], np.int64),
        "vectors": np.arange(12, dtype=np.float32).reshape(3, 4),
        "present": np.array([True, False, True]),
        "empty": np.zeros(0, np.int64),
        **sparse_to_arrays("sim", sim),
    }


def test_round_trip_keeps_values_dtypes_and_manifest(tmp_path):
    arrays = _arrays()
    save_arrays(tmp_path / "m", {"name": "toy", "lam": 2.5}, **arrays)
    manifest, back = load_arrays(tmp_path / "m")
    assert manifest == {"name": "toy", "lam": 2.5}
    assert set(back) == set(arrays)
    for name, value in arrays.items():
        assert back[name].dtype == value.dtype and back[name].shape == value.shape
        np.testing.assert_array_equal(back[name], value)
    np.testing.assert_array_equal(
        sparse_from_arrays("sim", back).toarray(), sparse_from_arrays("sim", arrays).toarray()
    )
    assert sorted(p.name for p in (tmp_path / "m" / "arrays").iterdir()) == sorted(
        f"{name}.npy" for name in arrays
    )


def test_arrays_come_back_memory_mapped_and_read_only(tmp_path):
    save_arrays(tmp_path / "m", {}, **_arrays())
    _, back = load_arrays(tmp_path / "m")
    vectors = back["vectors"]
    # a plain ndarray view (fast to slice) of the file's mapping, which it keeps open
    assert type(vectors) is np.ndarray and isinstance(vectors.base, np.memmap)
    assert not vectors.flags.writeable and not vectors.flags.owndata
    with pytest.raises(ValueError, match="read-only"):
        vectors[0, 0] = 1.0
    # what a caller that must write does: copy first
    copy = np.array(vectors)
    copy[0, 0] = 1.0
    assert vectors[0, 0] == 0.0


def test_saving_again_replaces_every_array(tmp_path):
    save_arrays(tmp_path / "m", {"v": 1}, a=np.ones(3), b=np.zeros(2))
    _, first = load_arrays(tmp_path / "m")
    save_arrays(tmp_path / "m", {"v": 2}, a=np.full(4, 2.0))
    manifest, back = load_arrays(tmp_path / "m")
    assert manifest == {"v": 2} and set(back) == {"a"}
    np.testing.assert_array_equal(back["a"], np.full(4, 2.0))
    # a reader of the earlier save keeps its (unlinked) files: no truncated pages under it
    np.testing.assert_array_equal(first["a"], np.ones(3))
    assert not [p for p in (tmp_path / "m").iterdir() if p.name.startswith(".")]


def test_a_directory_in_the_old_npz_layout_still_loads(tmp_path):
    arrays = _arrays()
    d = tmp_path / "old"
    d.mkdir()
    np.savez(d / "arrays.npz", allow_pickle=False, **arrays)
    (d / "manifest.json").write_text(json.dumps({"name": "toy"}))
    manifest, back = load_arrays(d)
    assert manifest == {"name": "toy"} and set(back) == set(arrays)
    for name, value in arrays.items():
        np.testing.assert_array_equal(back[name], value)


def test_saving_over_the_old_layout_drops_the_npz(tmp_path):
    d = tmp_path / "old"
    d.mkdir()
    np.savez(d / "arrays.npz", allow_pickle=False, a=np.zeros(2))
    save_arrays(d, {}, a=np.ones(2))
    assert not (d / "arrays.npz").exists()
    np.testing.assert_array_equal(load_arrays(d)[1]["a"], np.ones(2))
