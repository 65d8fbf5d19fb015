"""Safe model files: npz arrays (never pickled) next to a JSON manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp


def save_arrays(directory: Path, manifest: dict[str, Any], **arrays: np.ndarray) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / "arrays.npz", allow_pickle=False, **arrays)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))


def read_manifest(directory: Path) -> dict[str, Any]:
    """The JSON manifest next to a model's arrays; FileNotFoundError names the path."""
    path = Path(directory) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"no model manifest at {path}")
    return json.loads(path.read_text())


def load_arrays(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    manifest = json.loads((directory / "manifest.json").read_text())
    with np.load(directory / "arrays.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return manifest, arrays


def sparse_to_arrays(prefix: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {
        f"{prefix}_data": matrix.data,
        f"{prefix}_indices": matrix.indices,
        f"{prefix}_indptr": matrix.indptr,
        f"{prefix}_shape": np.asarray(matrix.shape, dtype=np.int64),
    }


def sparse_from_arrays(prefix: str, arrays: dict[str, np.ndarray]) -> sp.csr_matrix:
    return sp.csr_matrix(
        (arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]),
        shape=tuple(arrays[f"{prefix}_shape"]),
    )
