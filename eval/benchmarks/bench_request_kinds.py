"""Cost of each kind of recommendation request, in process, on a trained workspace.

The serving benchmark's mix (bench_serving) says how the kinds do together over HTTP; this
says which kind costs what: known users, anonymous histories, text queries, genre + year
filters and diversity, each ``--requests`` times through the served engine
(``RecommendationEngine.load``, what `recsys serve` runs), after one warm-up request each.
Prints p50 / p90 / max ms per kind and each kind's p50 against the known-user p50 of the
same run (the reference); timing only, it never fails on it.

    python -m eval.benchmarks request_kinds --workspace workspace
    python -m eval.benchmarks request_kinds --workspace W/bench/scale-100000   # a scale run
    python -m eval.benchmarks request_kinds --workspace W --profile "known user"   # where it goes

The engine is frozen out of the garbage collector's full passes after the load, as the server
does at install (``serving.state.freeze_heap``); the time of one full pass before and after
is printed (what a request that triggers one waits).

``--profile KIND`` runs that kind's requests once more under cProfile and prints the calls
that take most of their time (cumulative), to say where a request's milliseconds go.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from eval.benchmarks.bench_serving import QUERIES  # the mood queries the HTTP mix sends


def request_kinds(engine, rng: np.random.Generator, n: int) -> dict[str, Callable[[int], object]]:
    """One callable per kind; argument i picks the i-th prepared input of that kind."""
    catalog = engine.snap.catalog
    ids = engine.snap.items.vocab.ids
    users = rng.permutation(catalog.interactions["user_id"].unique().to_numpy())[:n]
    genres = sorted({g for gs in catalog.items["genres"].to_list() for g in gs or []})
    histories = [rng.choice(ids, 5).tolist() for _ in range(n)]
    return {
        "known user": lambda i: engine.recommend(user_id=int(users[i % len(users)]), k=20),
        "history": lambda i: engine.recommend(history=histories[i], k=20),
        "text": lambda i: engine.recommend(text=QUERIES[i % len(QUERIES)], k=20),
        "filter": lambda i: engine.recommend(
            user_id=int(users[i % len(users)]),
            k=20,
            genre=genres[i % len(genres)],
            year_min=1990,
        ),  # fmt: skip
        "diversity": lambda i: engine.recommend(
            user_id=int(users[i % len(users)]), k=20, diversity=0.3
        ),
    }


def main(argv: list[str] | None = None) -> None:
    from recsys.core.workspace import Workspace
    from serving.engine.encoders import EncoderPool
    from serving.engine.engine import RecommendationEngine
    from serving.state import freeze_heap

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="workspace", help="a trained, indexed workspace")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="10 requests per kind")
    parser.add_argument("--profile", metavar="KIND", help="cProfile this kind's requests")
    args, _ = parser.parse_known_args(argv)
    n = 10 if args.quick else args.requests
    start = time.perf_counter()
    engine = RecommendationEngine.load(Workspace(Path(args.workspace)), EncoderPool(device="cpu"))
    print(f"loaded {args.workspace} ({len(engine.snap.items.vocab):,} items) in "
          f"{time.perf_counter() - start:.1f}s")  # fmt: skip
    full_pass_ms = [_full_gc_pass_ms()]
    freeze_heap()
    full_pass_ms.append(_full_gc_pass_ms())
    print("a full garbage-collector pass: {:.1f} ms; with the engine frozen: {:.1f} ms".format(
        *full_pass_ms))  # fmt: skip
    rows = {}
    for kind, call in request_kinds(engine, np.random.default_rng(0), n).items():
        call(0)  # warm-up: lazy loads (the text encoder) are not a request's cost
        times = []
        for i in range(n):
            t = time.perf_counter()
            call(i)
            times.append(1000 * (time.perf_counter() - t))
        rows[kind] = (np.median(times), np.percentile(times, 90), max(times))
    ref = rows["known user"][0]
    print(f"  {'kind':<11} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8} {'vs user':>8}")
    for kind, (p50, p90, worst) in rows.items():
        print(f"  {kind:<11} {p50:>8.1f} {p90:>8.1f} {worst:>8.1f} {p50 / ref:>8.2f}")
    if args.profile:
        _profile(request_kinds(engine, np.random.default_rng(1), n)[args.profile], n)


def _full_gc_pass_ms() -> float:
    import gc

    start = time.perf_counter()
    gc.collect()
    return 1000 * (time.perf_counter() - start)


def _profile(call: Callable[[int], object], n: int, top: int = 30) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        call(i)
    profiler.disable()
    print(f"\ncProfile of {n} requests (cumulative seconds; divide by {n} for one request):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    main()
