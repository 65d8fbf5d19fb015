"""Shared FAISS plumbing: id mapping, exclusion-aware search, save/load with a manifest.

Every kind wraps its FAISS index in ``IndexIDMap2`` so external item ids live inside the
FAISS file itself and ``reconstruct`` works by id. Search parameters (efSearch, nprobe) are
passed per call, never set on the shared index, so concurrent searches stay thread-safe.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from index.config import IndexConfig
from index.interface import FORMAT_VERSION, MANIFEST, Index, SearchResult, read_manifest

INDEX_FILE = "index.faiss"


def import_faiss() -> Any:
    """The ``faiss`` module, imported on first use (it is heavy) and typed ``Any``.

    FAISS adds keyword constructors (``SearchParametersIVF(nprobe=...)``) at runtime that its
    generated SWIG signatures do not show, so a type checker reading them reports false errors.
    """
    import faiss

    return faiss


class FaissIndex(Index):
    """Base for FAISS-backed kinds; subclasses build the inner index and search params.

    FAISS objects are typed ``Any``: the SWIG bindings ship no type information.
    """

    def __init__(self, config: IndexConfig | None = None):
        super().__init__(config)
        self._index: Any = None  # faiss.IndexIDMap2 once built or loaded
        self._inner: Any = None  # its wrapped index: SWIG does not keep it alive for us
        # sorted copy of the ids, for membership checks
        self._ids: np.ndarray = np.zeros(0, dtype=np.int64)
        self.build_params: dict[str, Any] = {}  # derived params (nlist, pq_m, ...) as built

    # -- subclass hooks ----------------------------------------------------------------------
    def _make(self, dim: int, n: int) -> Any:
        """Return the inner (un-trained, empty) FAISS index for ``n`` vectors of ``dim``."""
        raise NotImplementedError

    def _train(self, inner: Any, vectors: np.ndarray) -> None:
        """Train the inner index if it needs it (IVF/PQ); flat and HNSW do not."""

    def _params(self, fetch: int) -> Any:
        """FAISS SearchParameters for a search fetching ``fetch`` neighbours (None = default)."""
        return None

    # -- Index API ---------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self._require().d)

    @property
    def count(self) -> int:
        return int(self._require().ntotal)

    def build(self, ids: np.ndarray, vectors: np.ndarray, metric: str | None = None) -> Index:
        faiss = import_faiss()
        if metric is not None:
            self.config = self.config.model_copy(update={"metric": metric})
        ids = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)  # (N, D)
        _check_build_input(ids, vectors)
        inner = self._make(vectors.shape[1], len(ids))
        self._train(inner, vectors)
        index = faiss.IndexIDMap2(inner)
        _add_with_progress(index, ids, vectors, self.kind)
        self._index, self._inner = index, inner  # keep inner alive: SWIG does not own it
        self._ids = _frozen(np.sort(ids))
        return self

    def search(
        self, queries: np.ndarray, k: int, exclude: Sequence[np.ndarray] | None = None
    ) -> SearchResult:
        index = self._require()
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)  # (B, D)
        if queries.shape[1] != self.dim:
            raise ValueError(f"query dim {queries.shape[1]} != index dim {self.dim}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        n_queries = len(queries)
        excluded = _as_exclusions(exclude, n_queries)
        out_ids = np.full((n_queries, k), -1, dtype=np.int64)
        out_scores = np.full((n_queries, k), -np.inf, dtype=np.float32)
        if self.count == 0 or n_queries == 0:
            return out_ids, out_scores
        longest = max((len(e) for e in excluded), default=0)
        fetch: int = min(self.count, k + longest)  # over-fetch so k survive the filter
        pending = np.arange(n_queries)
        while len(pending):
            with _calling_thread_only(len(pending) == 1):
                dist, found = index.search(queries[pending], fetch, params=self._params(fetch))
            scores = -dist if self.metric == "l2" else dist  # higher is better everywhere
            keep = found >= 0
            if excluded:
                for row, q in enumerate(pending):
                    if len(excluded[q]):
                        keep[row] &= ~np.isin(found[row], excluded[q])
            # a row is final once it has k hits or the search already covered the catalog
            done = (keep.sum(axis=1) >= k) | (fetch >= self.count)
            if fetch == k and keep.all():  # common case: nothing filtered, rows already full
                out_ids[pending], out_scores[pending] = found, scores
                break
            for row in np.flatnonzero(done).tolist():
                cols = np.flatnonzero(keep[row])[:k]
                out_ids[pending[row], : len(cols)] = found[row, cols]
                out_scores[pending[row], : len(cols)] = scores[row, cols]
            pending = pending[~done]
            fetch = min(self.count, fetch * 2)  # ANN came up short: widen and retry those rows
        return out_ids, out_scores

    def ids(self) -> np.ndarray:
        self._require()
        return self._ids  # read-only view, no copy: callers check membership per request

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        index = self._require()
        ids = np.asarray(ids, dtype=np.int64).ravel()
        pos = np.searchsorted(self._ids, ids).clip(0, max(len(self._ids) - 1, 0))
        missing = ids[(self._ids[pos] != ids)] if len(self._ids) else ids
        if len(missing):
            raise KeyError(f"ids not in the index: {missing[:10].tolist()}")
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return index.reconstruct_batch(ids)  # (n, D)

    def save(self, directory: Path, lineage: dict[str, Any] | None = None) -> None:
        faiss = import_faiss()
        index = self._require()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        # write-then-rename: a server may be mmapping an older file at this name (a hand-made
        # re-save; `recsys index` itself forks the served run instead of rewriting it):
        # replacing the name leaves its inode intact, truncating it in place would crash it
        tmp = directory / f".{INDEX_FILE}.tmp-{os.getpid()}"
        faiss.write_index(index, str(tmp))
        os.replace(tmp, directory / INDEX_FILE)
        manifest = {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "faiss_version": faiss.__version__,
            "created_at": datetime.now(UTC).isoformat(),
            "metric": self.metric,
            "dim": self.dim,
            "count": self.count,
            "config": self.config.model_dump(),
            "params": self.build_params,
            "lineage": lineage or {},
        }
        # the manifest goes last: its presence marks a complete index directory
        tmp = directory / f".{MANIFEST}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(manifest, indent=2, default=str))
        os.replace(tmp, directory / MANIFEST)

    @classmethod
    def load(cls, directory: Path, mmap: bool = False) -> FaissIndex:
        faiss = import_faiss()
        directory = Path(directory)
        manifest = read_manifest(directory)
        if manifest.get("kind") != cls.kind:
            raise ValueError(f"{directory} holds a {manifest.get('kind')!r} index, not {cls.kind}")
        if manifest.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{directory} was written by a newer index format; upgrade recsys")
        # MMAP maps IVF lists; MMAP_IFC maps the stored vectors of flat and HNSW indexes
        # (IndexFlatCodes): without it a 100k x 1,280-d HNSW was read into 514 MB of private
        # memory per worker, with it 28 MB until searched, and pages are shared between workers
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_MMAP_IFC if mmap else 0
        self = cls(IndexConfig.model_validate(manifest["config"]))
        self.build_params = manifest.get("params", {})
        self._index = faiss.read_index(str(directory / INDEX_FILE), flags)
        self._ids = _frozen(np.sort(faiss.vector_to_array(self._index.id_map).astype(np.int64)))
        self._inner = faiss.downcast_index(self._index.index)
        return self

    def _require(self) -> Any:
        if self._index is None:
            raise RuntimeError(f"{self.kind} index is empty: call build() or load() first")
        return self._index


@contextmanager
def _calling_thread_only(enabled: bool) -> Iterator[None]:
    """Search on the calling thread alone when ``enabled`` (one query).

    FAISS parallelises a search over its queries, so one query gains nothing from OpenMP's
    threads, and waking them is what it costs: 16 ms per search of 1k items on a busy
    2-core machine against 0.4 ms on one thread (a request searches several indexes). The
    OpenMP thread count is per calling thread, so other threads keep theirs.
    """
    if not enabled:
        yield
        return
    faiss = import_faiss()
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _add_with_progress(index: Any, ids: np.ndarray, vectors: np.ndarray, kind: str) -> None:
    """Add in chunks so big catalogs show a progress bar (HNSW at 1M takes minutes)."""
    step = 50_000
    with tqdm(total=len(ids), desc=f"{kind} add", unit="item", disable=len(ids) < 200_000) as bar:
        for lo in range(0, len(ids), step):
            index.add_with_ids(vectors[lo : lo + step], ids[lo : lo + step])
            bar.update(min(step, len(ids) - lo))


def _check_build_input(ids: np.ndarray, vectors: np.ndarray) -> None:
    if vectors.ndim != 2 or vectors.shape[0] != len(ids):
        raise ValueError(f"need vectors (N, D) matching {len(ids)} ids, got {vectors.shape}")
    if len(ids) == 0:
        raise ValueError("cannot build an index over zero vectors")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("duplicate item ids in the vectors to index")
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        raise ValueError(f"non-finite vectors for ids {ids[bad][:10].tolist()}")


def _as_exclusions(exclude: Sequence[np.ndarray] | None, n_queries: int) -> list[np.ndarray]:
    if exclude is None:
        return []
    if len(exclude) != n_queries:
        raise ValueError(f"exclude has {len(exclude)} entries for {n_queries} queries")
    return [np.asarray(e if e is not None else [], dtype=np.int64).ravel() for e in exclude]
