"""Feature lookup latency: 100 ids per call, a LanceDB query (``FeatureStore.get``).

The reference is a bare NumPy row gather of the same 100 rows measured in the same run, so the
ratio says how much the store costs on this machine. (Serving reads each table once with
``FeatureStore.aligned`` and gathers rows in memory, which is the reference path.)
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


def _latencies(fn, calls: int) -> np.ndarray:
    fn()  # warm caches and lazy imports before timing
    out = np.empty(calls)
    for c in range(calls):
        start = time.perf_counter()
        fn()
        out[c] = time.perf_counter() - start
    return out * 1000.0  # ms


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="10k items, 100 calls")
    args, _ = parser.parse_known_args(argv)
    if args.quick:
        args.items, args.calls = 10_000, 100

    from features.store import FeatureStore

    rng = np.random.default_rng(0)
    ids = np.arange(args.items, dtype=np.int64) * 7 + 3  # sparse, like real catalog ids
    vectors = rng.standard_normal((args.items, args.dim)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        store = FeatureStore(tmp)
        store.write(
            "item",
            "text",
            ids,
            vectors,
            encoder="bench",
            encoder_version="v1",
            content_hashes=[str(i) for i in ids],
            job_id="bench",
        )
        store.index_ids("item", "text")
        queries = [rng.choice(ids, 100, replace=False) for _ in range(args.calls + 1)]
        it = iter(queries * 3)
        positions = {int(i): p for p, i in enumerate(ids)}

        def reference():
            q = next(it)
            return vectors[[positions[int(i)] for i in q]]

        results = {
            "numpy gather (reference)": _latencies(reference, args.calls),
            "FeatureStore.get (LanceDB)": _latencies(
                lambda: store.get("item", next(it), ["text"]), min(args.calls, 100)
            ),
        }
    ref = np.median(results["numpy gather (reference)"])
    print(f"get of 100 ids from {args.items:,} x {args.dim}-d vectors")
    print(f"{'path':30s} {'p50 ms':>8s} {'p99 ms':>8s} {'p50 / reference':>16s}")
    for name, lat in results.items():
        p50, p99 = np.percentile(lat, [50, 99])
        print(f"{name:30s} {p50:8.3f} {p99:8.3f} {p50 / ref:16.1f}")


if __name__ == "__main__":
    main()
