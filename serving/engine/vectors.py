"""Item vectors per modality (from the LanceDB feature store) and exact/approximate search."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from recsys.app.item_vectors import newest_vectors
from recsys.core.interactions import IdVocab

log = logging.getLogger(__name__)

# Modality name -> LanceDB table written by `recsys embed`.
MODALITY_TABLES = {
    "text": "item_text",
    "image": "item_image",
    "video": "item_video",
    "fused": "item_fused",
}
# Above this many items a flat scan is replaced by an IVF index (built at load time).
IVF_THRESHOLD = 50_000


@dataclass(frozen=True)
class ModalityVectors:
    """(n_items, dim) L2-normalised rows in item-vocab order; ``present`` marks real rows."""

    name: str
    table: str
    matrix: np.ndarray  # (n, d) float32, zero rows where missing
    present: np.ndarray  # (n,) bool
    ann: Searcher
    pair_mean: float  # typical cosine of two random items (to tell "high" similarity)
    pair_std: float
    version: int = -1  # LanceDB table version the rows were read at (reuse across reloads)

    def zscore(self, sims: np.ndarray) -> np.ndarray:
        return (sims - self.pair_mean) / max(self.pair_std, 1e-3)


class Searcher(Protocol):
    """Top-k by inner product over item vectors, answering in dense item indices."""

    kind: str

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


class VectorSearch:
    """Inner-product top-k over a matrix with FAISS (flat, or IVF for large catalogs)."""

    def __init__(self, matrix: np.ndarray, present: np.ndarray):
        import faiss

        self.rows = np.flatnonzero(present).astype(np.int64)  # faiss id -> item index
        data = np.ascontiguousarray(matrix[self.rows])  # (m, d)
        dim = matrix.shape[1]
        index: faiss.Index
        if len(self.rows) > IVF_THRESHOLD:
            nlist = int(4 * np.sqrt(len(self.rows)))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(data)
            index.nprobe = 16
            self.kind = f"ivf{nlist}"
        else:
            index = faiss.IndexFlatIP(dim)
            self.kind = "flat"
        index.add(data)
        self.index = index

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Item indices and scores of the ``k`` nearest rows to one (d,) query."""
        k = min(k, len(self.rows))
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k)  # (1, k)
        keep = ids[0] >= 0
        return self.rows[ids[0][keep]], scores[0][keep]


def load_modalities(
    uri: str,
    vocab: IdVocab,
    previous: dict[str, ModalityVectors] | None = None,
    previous_vocab: IdVocab | None = None,
) -> dict[str, ModalityVectors]:
    """Every item modality table in the store, aligned to ``vocab``; missing tables skipped.

    A table whose LanceDB version and item vocabulary are unchanged since ``previous`` is
    reused as is, so a hot reload of new models does not rebuild unchanged vector indexes.
    """
    same_vocab = previous_vocab is not None and np.array_equal(previous_vocab.ids, vocab.ids)
    import lancedb

    try:
        db = lancedb.connect(uri)
        names = set(db.list_tables().tables)
    except Exception as exc:  # a missing/empty store is a normal state before `recsys embed`
        log.warning("feature store %s unreadable: %s", uri, exc)
        return {}
    out = {}
    for modality, table in MODALITY_TABLES.items():
        if table not in names:
            continue
        handle = db.open_table(table)
        version = int(handle.version)
        old = (previous or {}).get(modality)
        if same_vocab and old is not None and old.version == version:
            out[modality] = old
            continue
        ids, vecs, _ = newest_vectors(handle.to_arrow())  # (rows,), (rows, d)
        if not len(ids):
            log.warning("feature table %s is empty: modality %s skipped", table, modality)
            continue
        out[modality] = _aligned(modality, table, ids, vecs, vocab, version)
    return out


def _aligned(
    modality: str, table: str, ids: np.ndarray, vecs: np.ndarray, vocab: IdVocab, version: int
) -> ModalityVectors:
    pos = vocab.index(ids)
    keep = pos >= 0
    matrix = np.zeros((len(vocab), vecs.shape[1]), np.float32)
    norms = np.linalg.norm(vecs[keep], axis=1, keepdims=True)
    matrix[pos[keep]] = vecs[keep] / np.maximum(norms, 1e-12)
    present = np.zeros(len(vocab), bool)
    present[pos[keep]] = True
    mean, std = _pair_stats(matrix[present])
    ann = VectorSearch(matrix, present)
    return ModalityVectors(modality, table, matrix, present, ann, mean, std, version)


def _pair_stats(rows: np.ndarray, pairs: int = 2000) -> tuple[float, float]:
    if len(rows) < 2:
        return 0.0, 1.0
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(rows), pairs), rng.integers(0, len(rows), pairs)
    a, b = a[a != b], b[a != b]
    sims = np.einsum("ij,ij->i", rows[a], rows[b])
    return float(sims.mean()), float(sims.std())


class PublishedSearch:
    """The FAISS index `recsys index` published with the run, answering in item indices."""

    def __init__(self, index, vocab: IdVocab, kind: str):
        self.index = index
        self.vocab = vocab
        self.kind = kind

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = self.index.search(query.reshape(1, -1).astype(np.float32), k)  # (1, k)
        pos = self.vocab.index(ids[0])
        keep = (ids[0] >= 0) & (pos >= 0)
        return pos[keep], scores[0][keep]
