"""Safe model files: one ``.npy`` per array (never pickled) next to a JSON manifest.

```
<directory>/
  arrays/<name>.npy   one file per array, memory-mapped read-only by ``load_arrays``
  manifest.json       written last: a directory without it is unfinished
```

Memory-mapping lets every ``recsys serve --workers N`` process share one page-cache copy of a
run's arrays instead of each holding its own. Directories written before this layout hold a
single ``arrays.npz`` instead; ``load_arrays`` still reads those (fully, into memory).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys.core.atomic import replace_dir

ARRAYS = "arrays"
LEGACY_NPZ = "arrays.npz"  # the layout before one file per array


def save_arrays(directory: Path, manifest: dict[str, Any], **arrays: np.ndarray) -> None:
    """Write ``arrays`` as ``directory/arrays/<name>.npy``, then the manifest.

    The files go into a fresh sibling folder swapped in whole (``replace_dir``): a process that
    has the previous files mapped keeps reading their (unlinked) inodes, where rewriting them
    in place could truncate pages under it (SIGBUS), and no array of an earlier save lingers.
    """
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{ARRAYS}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    for name, value in arrays.items():
        np.save(tmp / f"{name}.npy", np.asarray(value), allow_pickle=False)
    replace_dir(tmp, directory / ARRAYS)
    (directory / LEGACY_NPZ).unlink(missing_ok=True)  # else two copies could disagree
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))


def read_manifest(directory: Path) -> dict[str, Any]:
    """The JSON manifest next to a model's arrays; FileNotFoundError names the path."""
    path = Path(directory) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"no model manifest at {path}")
    return json.loads(path.read_text())


def load_arrays(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The manifest and every array, memory-mapped read-only.

    Each array is a plain ``ndarray`` view whose ``base`` is the ``np.memmap`` (which keeps the
    mapping open): slicing an ``np.memmap`` itself runs Python code per slice, ~10x slower,
    and the request path slices rows. A caller that must change an array copies it first
    (writing raises ``ValueError``).
    """
    manifest = json.loads((directory / "manifest.json").read_text())
    folder = directory / ARRAYS
    if not folder.is_dir():
        return manifest, _load_npz(directory / LEGACY_NPZ)
    arrays = {
        path.stem: np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
        for path in sorted(folder.glob("*.npy"))
    }
    return manifest, arrays


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    """An ``arrays.npz`` of an earlier version, read into memory (npz cannot be mapped)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


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
