"""Read-ahead of a run's mapped files: which files, and never beyond the memory budget."""

from __future__ import annotations

import numpy as np

from serving.engine import warm


def _files(tmp_path):
    run = tmp_path / "run"
    (run / "models" / "arrays").mkdir(parents=True)
    (run / "index").mkdir()
    np.save(run / "models" / "arrays" / "big.npy", np.zeros(4096, np.float32))  # 16 kB
    np.save(run / "models" / "arrays" / "small.npy", np.zeros(8, np.float32))
    (run / "index" / "index.faiss").write_bytes(b"x" * 1000)
    (run / "manifest.json").write_text("{}")  # read once at load, not mapped
    return run


def test_mapped_files_are_the_arrays_and_indexes_smallest_first(tmp_path):
    run = _files(tmp_path)
    names = [p.name for p in warm.mapped_files([run, tmp_path / "absent"])]
    assert names == ["small.npy", "index.faiss", "big.npy"]


def test_read_ahead_stops_at_the_share_of_available_memory(tmp_path, monkeypatch):
    files = warm.mapped_files([_files(tmp_path)])
    sizes = [p.stat().st_size for p in files]
    monkeypatch.setattr(warm, "_available_bytes", lambda: 2 * (sizes[0] + sizes[1]))
    assert warm.read_ahead(files, share=0.5) == sizes[0] + sizes[1]  # big.npy left on disk
    monkeypatch.setattr(warm, "_available_bytes", lambda: 10**9)
    assert warm.read_ahead(files) == sum(sizes)


def test_available_memory_is_read_from_the_system():
    assert warm._available_bytes() > 0
