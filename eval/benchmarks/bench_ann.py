"""ANN recall@k against exact search, and its speed-up (queries/s ANN / exact, same run).

Synthetic catalog: clustered Gaussian vectors, L2-normalised like the real item vectors;
queries are fresh draws from the same clusters (not stored items, which would be too easy).
Goal: recall@100 >= 0.95 at >= 10x the exact queries/s.

    python -m eval.benchmarks.bench_ann --sizes 100000,1000000
    python -m eval.benchmarks.bench_ann --quick
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from index.base import create_index
from index.config import IndexConfig
from index.faiss_base import FaissIndex

GOAL_RECALL, GOAL_SPEEDUP = 0.95, 10.0


def clustered(n: int, dim: int, clusters: int, rng: np.random.Generator, centres) -> np.ndarray:
    """``n`` unit vectors around ``centres`` (clusters, dim): embedding-like, not uniform."""
    out = np.empty((n, dim), dtype=np.float32)
    step = 200_000  # chunks keep the float64 temporaries small at 1M
    for lo in range(0, n, step):
        m = min(step, n - lo)
        x = centres[rng.integers(0, clusters, m)] + 0.6 * rng.standard_normal((m, dim))
        out[lo : lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def timed_search(index, queries: np.ndarray, k: int, args) -> tuple[np.ndarray, float]:
    """Found ids and the best queries/s over ``args.repeats`` passes (after a warm-up).

    ``args.batch`` queries go per call (0 = all at once); batch 1 is what serving does, and
    exact search loses its BLAS advantage there.
    """
    index.search(queries[:8], k)
    step = args.batch or len(queries)
    best, found = 0.0, np.zeros((0, k), np.int64)
    for _ in range(max(args.repeats, 1)):
        start = time.perf_counter()
        found = np.concatenate(
            [index.search(queries[i : i + step], k)[0] for i in range(0, len(queries), step)]
        )
        best = max(best, len(queries) / (time.perf_counter() - start))
    return found, best


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [len(np.intersect1d(f[f >= 0], t)) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits) / truth.shape[1])


def bench_size(n: int, args: argparse.Namespace, kinds: list[str]) -> list[dict]:
    rng = np.random.default_rng(args.seed)
    clusters = max(10, n // 1000)
    centres = rng.standard_normal((clusters, args.dim))
    vectors = clustered(n, args.dim, clusters, rng, centres)  # (n, dim)
    queries = clustered(args.queries, args.dim, clusters, rng, centres)  # (Q, dim)
    ids = np.arange(n, dtype=np.int64)

    exact = create_index("faiss-flat").build(ids, vectors)
    truth, exact_qps = timed_search(exact, queries, args.k, args)
    del exact
    rows = []
    for kind in kinds:
        config = IndexConfig.model_validate(json.loads(args.config)) if args.config else None
        _threads(args.build_threads or args.threads)
        start = time.perf_counter()
        index = create_index(kind, config).build(ids, vectors)
        build_s = time.perf_counter() - start
        _threads(args.threads)
        found, qps = timed_search(index, queries, args.k, args)
        row = {
            "n": n,
            "dim": args.dim,
            "kind": kind,
            "params": index.build_params if isinstance(index, FaissIndex) else {},
            "build_s": round(build_s, 1),
            "build_threads": args.build_threads or args.threads,
            "search_threads": args.threads,
            "batch": args.batch or args.queries,
            f"recall@{args.k}": round(recall_at_k(found, truth), 4),
            "qps": round(qps, 1),
            "exact_qps": round(exact_qps, 1),
            "speedup": round(qps / exact_qps, 1),
        }
        row["goal_met"] = row[f"recall@{args.k}"] >= GOAL_RECALL and row["speedup"] >= GOAL_SPEEDUP
        rows.append(row)
        print(
            f"{n:>9,} {kind:<12} build {build_s:7.1f}s  recall@{args.k} "
            f"{row[f'recall@{args.k}']:.3f}  {qps:9.0f} q/s vs exact {exact_qps:7.0f} q/s "
            f"= {row['speedup']:5.1f}x  {'OK' if row['goal_met'] else 'below goal'}",
            flush=True,
        )
        del index
    return rows


def _threads(n: int) -> None:
    import faiss

    faiss.omp_set_num_threads(n)


def default_kinds(n: int) -> list[str]:
    # HNSW build at 1M takes many minutes on 2 cores; IVF-PQ + exact re-rank trains on a sample
    return ["faiss-hnsw", "faiss-ivfpq"] if n <= 200_000 else ["faiss-ivfpq"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated item counts")
    parser.add_argument("--kinds", default=None, help="index kinds (default: by size)")
    parser.add_argument("--dim", type=int, default=96)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--batch", type=int, default=0, help="queries per call (0 = all)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", default=None, help="IndexConfig as JSON, e.g. nprobe")
    # one thread by default: oversubscribed OpenMP on a shared box made timings 3x noisier;
    # exact and ANN always run with the same thread count, so the ratio stays fair
    parser.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads")
    parser.add_argument("--build-threads", type=int, default=None, help="threads for builds")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    parser.add_argument("--quick", action="store_true", help="20k items, 200 queries")
    args, _ = parser.parse_known_args(argv)  # tolerate flags meant for other benchmarks
    if args.quick:
        args.sizes, args.queries, args.repeats = "20000", 200, 1
    _threads(args.threads)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        kinds = args.kinds.split(",") if args.kinds else default_kinds(n)
        rows += bench_size(n, args, kinds)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
