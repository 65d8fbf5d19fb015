"""Item vectors per modality (read through the feature store) and their top-k search."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from features.store import AlignedVectors, FeatureStore
from index import Index, create_index
from recsys.core.interactions import IdVocab

log = logging.getLogger(__name__)

# The item modalities (of features.store.ITEM_MODALITIES) the engine serves: the content
# spaces of "more like this", explanations and taste vectors. ratings/review_text vectors
# feed training, not item-to-item similarity a person would recognise.
SERVED_MODALITIES = ("text", "image", "video", "fused")
FLAT_KIND = "faiss-flat"  # exact search (index.faiss_kinds.FlatIndex)


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


class InMemorySearch(IndexSearch):
    """Exact search over the ``present`` rows of ``matrix``, its index built on first use.

    Why not at load, of the kind the size calls for: at 100k items that meant HNSW graphs over
    the text, image and fused vectors in every worker (most of the 247 s to /ready, and a
    private copy of each modality's vectors), while the fused space is then searched with
    the run's published index anyway and the others serve only "more like this" in one
    modality and text search. Built on a request, it must be quick to build: FAISS flat, a
    copy of the rows (0.2 s at 100k x 1,280-d), ~30 ms a search there on one core. A catalog
    where that is too slow publishes an ANN index for the space (`recsys index`).
    """

    def __init__(self, matrix: np.ndarray, present: np.ndarray, vocab: IdVocab):
        super().__init__(None, vocab)  # type: ignore[arg-type]  # built by _built()
        self._matrix, self._present = matrix, present
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        return FLAT_KIND

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self._built()
        return super().search(query, k)

    def _built(self) -> None:
        with self._lock:  # requests run on threads: one build, the others wait for it
            if self.index is None:
                rows = np.flatnonzero(self._present)
                index = create_index(FLAT_KIND)
                self.index = index.build(self.vocab.ids[rows], self._matrix[rows])


def in_memory_search(matrix: np.ndarray, present: np.ndarray, vocab: IdVocab) -> IndexSearch:
    """Search over the ``present`` rows of ``matrix`` (n, d); see ``InMemorySearch``."""
    return InMemorySearch(matrix, present, vocab)


@dataclass(frozen=True)
class ModalityVectors:
    """(n_items, dim) rows in item-vocab order; ``present`` marks real rows.

    Attributes:
        name: modality name (``text`` …) or ``hybrid`` for the ranker's item tower.
        table: where the rows came from (feature table name, or the model name).
        version: LanceDB table version the rows were read at (reuse across reloads).
    """

    name: str
    table: str
    matrix: np.ndarray  # (n, d) float32, zero rows where missing
    present: np.ndarray  # (n,) bool
    ann: IndexSearch
    pair_mean: float  # typical cosine of two random items (to tell "high" similarity)
    pair_std: float
    version: int = -1

    def zscore(self, sims: np.ndarray) -> np.ndarray:
        return (sims - self.pair_mean) / max(self.pair_std, 1e-3)


def load_modalities(
    uri: str,
    vocab: IdVocab,
    previous: dict[str, ModalityVectors] | None = None,
    previous_vocab: IdVocab | None = None,
) -> dict[str, ModalityVectors]:
    """Every served item modality in the store, aligned to ``vocab``; missing tables skipped.

    A table whose LanceDB version and item vocabulary are unchanged since ``previous`` is
    reused as is, so a hot reload of new models does not rebuild unchanged vector indexes.

    Raises:
        StoreUnavailableError: the store exists (or is remote) but cannot be read.
    """
    if not FeatureStore.exists(uri):  # before `recsys embed`: serve without content vectors
        return {}
    try:
        store = FeatureStore(uri)
        tables = {m: store.aligned("item", m, vocab) for m in SERVED_MODALITIES}
    except (OSError, RuntimeError) as exc:  # LanceDB reports I/O and connection errors so
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreUnavailableError(f"the feature store cannot be read: {first}") from exc
    same_vocab = previous_vocab is not None and np.array_equal(previous_vocab.ids, vocab.ids)
    out = {}
    for modality, found in tables.items():
        if found is None:
            continue
        old = (previous or {}).get(modality)
        if same_vocab and old is not None and old.version == found.table_version:
            out[modality] = old
            continue
        if not found.present.any():
            log.warning(
                "%s has no vectors of catalog items: modality %s skipped", found.table, modality
            )
            continue
        out[modality] = _normalised(modality, found, vocab)
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


def _normalised(modality: str, found: AlignedVectors, vocab: IdVocab) -> ModalityVectors:
    # a non-finite row (a failed encoder output) would win or lose every inner product
    matrix = np.asarray(found.matrix, dtype=np.float32)  # (n, d)
    if not matrix.flags.writeable:
        matrix = matrix.copy()
    present = found.present & np.isfinite(matrix).all(axis=1)
    # in place: the read's array is this space's alone, and a 100k x 1,702 table is 650 MB,
    # so every temporary copy is one more the allocator may keep
    matrix[~present] = 0.0
    np.divide(matrix, np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12), out=matrix)
    mean, std = _pair_stats(matrix[present])
    ann = in_memory_search(matrix, present, vocab)
    return ModalityVectors(
        modality, found.table, matrix, present, ann, mean, std, found.table_version
    )


def _pair_stats(rows: np.ndarray, pairs: int = 2000) -> tuple[float, float]:
    if len(rows) < 2:
        return 0.0, 1.0
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(rows), pairs), rng.integers(0, len(rows), pairs)
    a, b = a[a != b], b[a != b]
    sims = np.einsum("ij,ij->i", rows[a], rows[b])
    return float(sims.mean()), float(sims.std())
