"""Item vectors per modality (read through the feature store) and their top-k search."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from features.store import AlignedVectors, FeatureStore, table_name
from index import Index
from index.candidates.base import best_first
from recsys.core.interactions import IdVocab
from serving.engine.vector_cache import Cached, cache_key, cached

log = logging.getLogger(__name__)

# The item modalities (of features.store.ITEM_MODALITIES) the engine serves: the content
# spaces of "more like this", explanations and taste vectors. ratings/review_text vectors
# feed training, not item-to-item similarity a person would recognise.
SERVED_MODALITIES = ("text", "image", "video", "fused")
EXACT_KIND = "exact-scan"  # ExactScan: no index, the rows themselves


class StoreUnavailableError(RuntimeError):
    """The feature store could not be read (connection, I/O): the load fails, nothing swaps."""


class IncompleteStoreError(ValueError):
    """The store lacks vectors of a modality the run ranks with: serving it would be partial."""


class IndexSearch:
    """An ``index.base.Index`` answering in dense item indices of ``vocab``.

    Attributes:
        index: the index; it is keyed by item ids.
        published: True for the index `recsys index` published with the run, False for one
            built in memory at load time.
    """

    def __init__(self, index: Index, vocab: IdVocab, published: bool = False):
        self.index = index
        self.vocab = vocab
        self.published = published

    @property
    def kind(self) -> str:
        return self.index.kind

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Item indices and scores of the ``k`` nearest items to one (d,) query, best first."""
        ids, scores = self.index.search(query.reshape(1, -1).astype(np.float32), k)  # (1, k)
        pos = self.vocab.index(ids[0])
        keep = (ids[0] >= 0) & (pos >= 0)  # -1 pads a short answer; the index may hold more ids
        return pos[keep], scores[0][keep]


class ExactScan(IndexSearch):
    """Exact top-k over the ``present`` rows of ``matrix``, scanned in blocks of rows.

    The served modalities' default search ("more like this" in one modality, text search).
    Why a scan of the matrix and no index: the matrix is memory-mapped and shared by every
    worker (``vector_cache``); an index of it, even FAISS flat, is a private copy per worker
    (512 MB for 100k x 1,280-d), and the HNSW graphs built at load once took most of 247 s to
    /ready. A scan reads the rows where they lie: ~30 ms a search at 100k x 1,280-d on one
    core. A catalog where that is too slow publishes an ANN index for the space
    (`recsys index`). Per search it allocates one block of scores, never a catalog-sized array.
    """

    BLOCK = 8192

    def __init__(self, matrix: np.ndarray, present: np.ndarray, vocab: IdVocab):
        super().__init__(None, vocab)  # type: ignore[arg-type]  # no index: the matrix is it
        self._matrix, self._present = matrix, present

    @property
    def kind(self) -> str:
        return EXACT_KIND

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.asarray(query, np.float32).reshape(-1)
        rows, scores = np.zeros(0, np.int64), np.zeros(0, np.float32)  # the best so far
        for start in range(0, len(self._matrix), self.BLOCK):
            block = self._matrix[start : start + self.BLOCK] @ q  # (block,)
            present = np.flatnonzero(self._present[start : start + self.BLOCK])
            top = present[best_first(block[present], k)]
            rows = np.concatenate([rows, top + start])
            scores = np.concatenate([scores, block[top]])
            keep = np.sort(best_first(scores, k))  # in row order, so ties go to the lower row
            rows, scores = rows[keep], scores[keep]
        order = best_first(scores, k)
        return rows[order], scores[order]


@dataclass(frozen=True)
class ModalityVectors:
    """(n_items, dim) rows in item-vocab order; ``present`` marks real rows.

    Attributes:
        name: modality name (``text`` …) or ``hybrid`` for the ranker's item tower.
        table: where the rows came from (feature table name, or the model name).
        state: the store state the rows were read at (``FeatureStore.read_state``; reuse
            across reloads), None when not read from a store.
    """

    name: str
    table: str
    matrix: np.ndarray  # (n, d) float32, zero rows where missing; memory-mapped when cached
    present: np.ndarray  # (n,) bool
    ann: IndexSearch
    pair_mean: float  # typical cosine of two random items (to tell "high" similarity)
    pair_std: float
    state: tuple[int, int] | None = None

    def zscore(self, sims: np.ndarray) -> np.ndarray:
        return (sims - self.pair_mean) / max(self.pair_std, 1e-3)


def load_modalities(
    uri: str,
    vocab: IdVocab,
    previous: dict[str, ModalityVectors] | None = None,
    previous_vocab: IdVocab | None = None,
    cache_dir: Path | None = None,
) -> dict[str, ModalityVectors]:
    """Every served item modality in the store, aligned to ``vocab``; missing tables skipped.

    A table whose store state and item vocabulary are unchanged since ``previous`` is reused
    as is (a hot reload of new models reads no vectors). Otherwise the normalised rows come
    from ``cache_dir`` (``vector_cache``: written by the first worker at this state, mapped
    by all), read from the store only on a miss.

    Raises:
        StoreUnavailableError: the store exists (or is remote) but cannot be read.
    """
    if not FeatureStore.exists(uri):  # before `recsys embed`: serve without content vectors
        return {}
    same_vocab = previous_vocab is not None and np.array_equal(previous_vocab.ids, vocab.ids)
    out = {}
    try:
        store = FeatureStore(uri)
        for modality in SERVED_MODALITIES:
            state = store.read_state("item", modality)
            old = (previous or {}).get(modality)
            if state is None:
                continue
            if same_vocab and old is not None and old.state == state:
                out[modality] = old
                continue
            table = table_name("item", modality)
            matrix, present, meta = cached(
                cache_dir,
                cache_key(table, state, vocab),
                partial(_read, store, modality, vocab),
            )
            if not present.any():
                log.warning(
                    "%s has no vectors of catalog items: modality %s skipped", table, modality
                )
                continue
            ann = ExactScan(matrix, present, vocab)
            mean, std = meta["pair_mean"], meta["pair_std"]
            out[modality] = ModalityVectors(modality, table, matrix, present, ann, mean, std, state)
    except (OSError, RuntimeError) as exc:  # LanceDB reports I/O and connection errors so
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreUnavailableError(f"the feature store cannot be read: {first}") from exc
    return out


def require_modalities(loaded: Mapping[str, ModalityVectors], needed: Iterable[str]) -> None:
    """Refuse a load whose store lacks a served modality the run was trained with.

    A store that is missing (unmounted, mid-rebuild) or partly written would otherwise give an
    engine without similar-items or search while /ready says 200.

    Raises:
        IncompleteStoreError: naming the missing modalities.
    """
    missing = sorted(set(needed) & set(SERVED_MODALITIES) - set(loaded))
    if missing:
        names = ", ".join(f"item_{m}" for m in missing)
        raise IncompleteStoreError(
            f"the feature store has no vectors for {names}, which the run was trained with "
            "(store missing or still being written? else run `recsys embed`)"
        )


def _read(store: FeatureStore, modality: str, vocab: IdVocab) -> Cached:
    found = store.aligned("item", modality, vocab)
    if found is None:  # dropped between its state and this read
        raise StoreUnavailableError(f"table {table_name('item', modality)} vanished mid-read")
    return _normalised(found)


def _normalised(found: AlignedVectors) -> Cached:
    """Unit rows (zero where absent or non-finite) and the pair statistics of one read."""
    # a non-finite row (a failed encoder output) would win or lose every inner product
    matrix = np.asarray(found.matrix, dtype=np.float32)  # (n, d)
    if not matrix.flags.writeable:
        matrix = matrix.copy()
    present = found.present & np.isfinite(matrix).all(axis=1)
    # in place: the read's array is this space's alone, and a 100k x 1,702 table is 650 MB,
    # so every temporary copy is one more the allocator may keep
    matrix[~present] = 0.0
    np.divide(matrix, np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12), out=matrix)
    mean, std = _pair_stats(matrix, np.flatnonzero(present))
    return matrix, present, {"table": found.table, "pair_mean": mean, "pair_std": std}


def _pair_stats(matrix: np.ndarray, rows: np.ndarray, pairs: int = 2000) -> tuple[float, float]:
    if len(rows) < 2:
        return 0.0, 1.0
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(rows), pairs), rng.integers(0, len(rows), pairs)
    a, b = rows[a[a != b]], rows[b[a != b]]
    sims = np.einsum("ij,ij->i", matrix[a], matrix[b])
    return float(sims.mean()), float(sims.std())
