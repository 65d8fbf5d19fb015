"""The three FAISS index kinds: exact flat, HNSW graph, IVF-PQ with exact re-ranking."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from index.faiss_base import FaissIndex, import_faiss
from index.interface import register


def _faiss_metric(metric: str) -> Any:
    faiss = import_faiss()
    return faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2


@register
class FlatIndex(FaissIndex):
    """Exact brute-force search: the reference every ANN kind is measured against."""

    kind = "faiss-flat"
    exact = True

    def _make(self, dim: int, n: int) -> Any:
        faiss = import_faiss()
        return faiss.IndexFlatIP(dim) if self.metric == "ip" else faiss.IndexFlatL2(dim)


@register
class HNSWIndex(FaissIndex):
    """HNSW graph over full vectors: high recall, no training, memory ~ N * (4D + 8M) bytes."""

    kind = "faiss-hnsw"

    def _make(self, dim: int, n: int) -> Any:
        faiss = import_faiss()
        p = self.config.hnsw
        inner = faiss.IndexHNSWFlat(dim, p.m, _faiss_metric(self.metric))
        inner.hnsw.efConstruction = p.ef_construction
        inner.hnsw.efSearch = p.ef_search
        self.build_params = {"m": p.m, "ef_construction": p.ef_construction}
        return inner

    def _params(self, fetch: int) -> Any:
        faiss = import_faiss()
        # efSearch below the fetch size would cap the result list (and recall) at efSearch
        return faiss.SearchParametersHNSW(efSearch=max(self.config.hnsw.ef_search, fetch))


@register
class IVFPQIndex(FaissIndex):
    """IVF coarse lists + PQ codes for the shortlist, re-ranked exactly on full vectors.

    ``IndexRefineFlat`` keeps the full vectors next to the PQ codes: PQ alone loses recall on
    close neighbours, and the exact re-rank of ``refine_factor * k`` candidates wins it back.
    """

    kind = "faiss-ivfpq"

    def _make(self, dim: int, n: int) -> Any:
        faiss = import_faiss()
        p = self.config.ivfpq
        train_n = min(n, p.train_size)
        # ~2 sqrt(N) lists, but >= 256 items each: with tiny lists the top-100 of a query
        # spreads over more lists than nprobe visits (recall@100 0.82 at 20k items, measured)
        nlist = p.nlist or max(1, min(round(2 * math.sqrt(n)), n // 256))
        # >= 39 training points per list keeps k-means meaningful (FAISS warns below that)
        nlist = max(1, min(nlist, train_n // 39 or 1))
        nbits = min(p.nbits, max(1, int(math.log2(train_n))))  # PQ k-means needs 2**nbits pts
        fast_scan = nbits == 4  # 4-bit codes: SIMD table lookups, the fastest FAISS PQ scan
        pq_m = p.pq_m or _divisor_at_most(dim, dim // 2 if fast_scan else dim // 8)
        if dim % pq_m:
            raise ValueError(f"ivfpq.pq_m={pq_m} must divide the vector dim {dim}")
        metric = _faiss_metric(self.metric)
        quantizer = faiss.IndexFlatIP(dim) if self.metric == "ip" else faiss.IndexFlatL2(dim)
        if fast_scan:
            ivf = faiss.IndexIVFPQFastScan(quantizer, dim, nlist, pq_m, nbits, metric)
        else:
            ivf = faiss.IndexIVFPQ(quantizer, dim, nlist, pq_m, nbits, metric)
        ivf.by_residual = p.by_residual
        self._quantizer, self._ivf = quantizer, ivf  # SWIG: keep Python refs alive
        self.build_params = {
            "nlist": nlist,
            "pq_m": pq_m,
            "nbits": nbits,
            "fast_scan": fast_scan,
            "train_n": train_n,
        }
        return faiss.IndexRefineFlat(ivf)

    def _train(self, inner: Any, vectors: np.ndarray) -> None:
        train_n = self.build_params["train_n"]
        if train_n < len(vectors):
            # a fixed seed keeps rebuilds of the same catalog identical
            pick = np.random.default_rng(0).choice(len(vectors), train_n, replace=False)
            vectors = vectors[np.sort(pick)]
        inner.train(vectors)

    def _params(self, fetch: int) -> Any:
        faiss = import_faiss()
        p = self.config.ivfpq
        nlist = self.build_params.get("nlist", p.nprobe)
        # a fetch that covers the whole catalog must probe every list to be exhaustive
        nprobe = nlist if fetch >= self.count else min(p.nprobe, nlist)
        return faiss.IndexRefineSearchParameters(
            k_factor=float(p.refine_factor),
            base_index_params=faiss.SearchParametersIVF(nprobe=nprobe),
        )


def _divisor_at_most(dim: int, limit: int) -> int:
    """Largest divisor of ``dim`` not above ``limit`` (PQ sub-vectors must tile the vector).

    8-bit codes get 8-dim sub-vectors: FAISS trains them with BLAS (4-dim ones took 25x longer
    to train, measured), and the exact re-rank recovers what the coarser codes lose.
    """
    for m in range(max(1, limit), 0, -1):
        if dim % m == 0:
            return m
    return 1
