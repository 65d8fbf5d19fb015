"""Serving at catalog scale: `wrk` against one `recsys serve`, the trivial route as reference.

For each catalog size (``--items``; workspaces from eval/benchmarks/scale.py, built with the
default pipeline and cached under ``<workspace>/bench/``), one server process, and per
connection count (``--connections``, default 1 and 16), ``--seconds`` of each:

- ``GET /health``: the HTTP + framework floor of the same server (the reference);
- known users' ``GET /users/{id}/recommendations?k=20`` (the goal's route), three ways:
  "ranked" sends ``Cache-Control: no-cache``, so every request runs the ranking pipeline (a
  user with live events, or a request shape nobody precomputed); "precomputed" asks as a
  client does, for users not asked before: the answers `recsys index` ranked for every known
  user before publishing the run, read from its files (serving/engine/answer_store.py);
  "kept" asks a shape that is not precomputed (``&diversity=0.3``) for users answered before
  the row, whose answers each worker keeps until their events or the run change
  (serving/response_cache.py) — a returning visit. All are real traffic; the goal is
  reported for each;
- the mix (ranked, like the first): known users, anonymous histories (``POST
  /recommendations``), text queries (``POST /recommendations`` with ``text``), genre/year
  filters and diversity. Text queries go through the bounded heavy pool, which refuses work
  beyond its capacity with 503 by design, so the mix runs at no more connections than the
  pool admits (said in the table).

Prints req/s, p50/p99 per row, the ratio to ``/health`` at the same connection count, and the
server's memory after the runs: total RSS and PSS over its process tree and each worker's
(``--workers N`` serves with N uvicorn workers; their memory-mapped run arrays are counted in
full by every worker's RSS, split between them by PSS, so total PSS is the true footprint);
writes JSON to ``<workspace>/reports/benchmarks/serving.json``. Exits non-zero
only on errors (non-2xx answers, socket errors), never on timing: the box may be shared.
Goals (issue 12): known users >= 0.5 x /health at 16 connections on 100k items with p99 <=
25 ms; p99 <= 50 ms at 1M.

    python -m eval.benchmarks serving --items 10000 100000
    python -m eval.benchmarks serving --quick        # 2,000 items, 3 s per row
    python -m eval.benchmarks serving --quick --workers 2
    python -m eval.benchmarks serving --served workspace --rank-threads 40   # make run's
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.benchmarks.scale import ScaleSpec, build
from eval.benchmarks.wrk import (
    ProcessMemory,
    Request,
    failures,
    process_memory,
    require_wrk,
    run_wrk,
    write_script,
)

NO_CACHE = {"Cache-Control": "no-cache"}  # rank every request (RFC 9111 request directive)
KEPT_USERS = 500  # users answered once before the "kept" rows (with diversity: not precomputed)
MIX = {"user": 40, "session": 20, "text": 10, "filter": 15, "diversity": 15}
QUERIES = ("a space adventure", "a scary night", "a funny family film", "a love story")
GOAL_RATIO, GOAL_P99_MS = 0.5, 25.0


def prepared_requests(ws, rng: np.random.Generator) -> dict[str, list[Request]]:
    """Valid requests of every kind for ``ws``'s catalog (a 4xx here would be our bug)."""
    from recsys.core.catalog import load_workspace_catalog

    catalog = load_workspace_catalog(ws)
    users = rng.permutation(catalog.interactions["user_id"].unique().to_numpy())[:2000]
    items = catalog.items["item_id"].to_numpy()
    genres = sorted({g for gs in catalog.items["genres"].to_list() for g in gs or []})
    user_paths = [f"/users/{int(u)}/recommendations?k=20" for u in users]
    return {
        "user": [("GET", p, None) for p in user_paths],
        "session": [
            ("POST", "/recommendations", {"history": rng.choice(items, 5).tolist(), "k": 20})
            for _ in range(300)
        ],
        "text": [("POST", "/recommendations", {"text": q, "k": 20}) for q in QUERIES],
        "filter": [
            ("GET", f"{p}&genre={genres[i % len(genres)]}&year_min=1990", None)
            for i, p in enumerate(user_paths[:500])
        ],
        "diversity": [("GET", f"{p}&diversity=0.3", None) for p in user_paths[:500]],
    }


def ask_each(base: str, requests: dict[str, list[Request]], per_kind: int | None = 3) -> None:
    """The first ``per_kind`` requests of each kind (None: all) must answer 200.

    Run once with 3 per kind before the rows (lazy loads happen here, not in a row), and over
    the "kept" users, so the server keeps their answers for the rows that ask them again.
    """
    import httpx

    with httpx.Client(base_url=base, timeout=300) as client:
        for kind, prepared in requests.items():
            for method, path, body in prepared[:per_kind]:
                r = client.request(method, path, json=body)
                if r.status_code != 200:
                    raise RuntimeError(f"warm-up {kind} {method} {path} -> {r.status_code}")


def precomputed(base: str, request: Request) -> bool:
    """Whether the server answers ``request`` (not asked before) from the run's answers."""
    import httpx

    method, path, body = request
    r = httpx.request(method, base + path, json=body, timeout=300)
    r.raise_for_status()
    return r.headers.get("x-cache") == "precomputed"


def _row(name: str, conns: int, summary: dict, reference: dict | None) -> dict:
    seconds = summary["duration_us"] / 1e6
    rps = summary["requests"] / seconds
    ref = reference["requests"] / (reference["duration_us"] / 1e6) if reference else rps
    lat = summary["latency_us"]
    return {
        "route": name,
        "connections": conns,
        "rps": round(rps, 1),
        "p50_ms": lat["p50"] / 1000,
        "p99_ms": lat["p99"] / 1000,
        "ratio": round(rps / ref, 3),
        "failures": failures(summary),
        "statuses": summary["statuses"],
    }


def bench_size(root: Path, items: int | None, args, log=print) -> dict:
    from serving import heavy
    from serving.process import HOST, free_port, start_server, stop_server, wait_ready

    build_seconds: dict[str, float] = {}  # stays empty for --served (built elsewhere)
    if items is None:  # --served: a workspace trained and indexed already, as it is
        from recsys.core.catalog import load_workspace_catalog
        from recsys.core.workspace import Workspace

        ws = Workspace(Path(args.served))
        items = load_workspace_catalog(ws).items.height
    else:
        ws, build_seconds = build(root / f"scale-{items}", ScaleSpec.for_items(items), log)
    requests = prepared_requests(ws, np.random.default_rng(0))
    kept = requests["diversity"][:KEPT_USERS]
    tmp = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    scripts = {
        "health": write_script(tmp / "health.lua", {"h": [("GET", "/health", None)]}, {"h": 1}),
        "user": write_script(tmp / "user.lua", requests, {"user": 1}, NO_CACHE),
        "precomputed": write_script(tmp / "precomputed.lua", requests, {"user": 1}),
        "kept": write_script(tmp / "kept.lua", {"kept": kept}, {"kept": 1}),
        "mix": write_script(tmp / "mix.lua", requests, MIX, NO_CACHE),
    }
    port, server_log = free_port(), tmp / "server.log"
    base = f"http://{HOST}:{port}"
    t0 = time.perf_counter()
    serve_args = ["--workers", str(args.workers)]
    env = {"RECSYS_DEVICE": "cpu"}
    if args.rank_threads:
        env["RECSYS_RANK_THREADS"] = str(args.rank_threads)
    proc = start_server(ws.root, port, server_log, env, serve_args)
    rows = []
    try:
        wait_ready(base, proc, server_log, timeout=1200, workers=args.workers)
        ready_s = time.perf_counter() - t0
        # before any request: what a load costs (mapped files count once requests touch them)
        loaded = memory_summary(process_memory(proc.pid), proc.pid, args.workers)
        ask_each(base, requests)
        ask_each(base, {"kept": kept}, per_kind=None)
        routes = [("user ranked", "user"), ("user kept", "kept")]
        if precomputed(base, requests["user"][-1]):
            routes.insert(1, ("user precomputed", "precomputed"))
        else:
            log("serving: this run has no precomputed answers (run `recsys index` again)")
        capacity = heavy.DEFAULT_WORKERS + heavy.DEFAULT_MAX_WAITING  # as the server computes
        for conns in args.connections:
            ref = run_wrk(base, scripts["health"], args.seconds, conns)
            rows.append(_row("/health", conns, ref, None))
            for route, script in routes:
                summary = run_wrk(base, scripts[script], args.seconds, conns)
                rows.append(_row(route, conns, summary, ref))
            mix_conns = min(conns, capacity)
            mix = run_wrk(base, scripts["mix"], args.seconds, mix_conns)
            mix_ref = (
                ref
                if mix_conns == conns
                else run_wrk(base, scripts["health"], args.seconds, mix_conns)
            )
            rows.append(_row("mix", mix_conns, mix, mix_ref))
        tree = process_memory(proc.pid)
    finally:
        stop_server(proc)
    return {
        "items": items,
        "build_seconds": build_seconds,
        "ready_seconds": round(ready_s, 1),
        **memory_summary(tree, proc.pid, args.workers),
        "after_load": {k: loaded[k] for k in ("rss_mb", "pss_mb", "worker_memory")},
        "rows": rows,
        "server_log": str(server_log),
    }


def _mb(n: int) -> float:
    return round(n / 2**20, 1)


def memory_summary(tree: list[ProcessMemory], root: int, workers: int) -> dict:
    """Totals over the server's process tree and each worker's RSS/PSS/private, in MB.

    With one worker the root process serves; with more, uvicorn's root only supervises and the
    workers are its children, less multiprocessing's resource tracker (a helper, not a worker).
    """
    if workers == 1:
        served = [m for m in tree if m.pid == root]
    else:
        served = [m for m in tree if m.parent == root and "resource_tracker" not in m.command]
    return {
        "workers": workers,
        "processes": len(tree),
        "rss_mb": _mb(sum(m.rss_bytes for m in tree)),
        "pss_mb": _mb(sum(m.pss_bytes for m in tree)),
        "worker_memory": [
            {
                "pid": m.pid,
                "rss_mb": _mb(m.rss_bytes),
                "pss_mb": _mb(m.pss_bytes),
                "private_mb": _mb(m.private_bytes),
            }
            for m in served
        ],
    }


def print_table(result: dict) -> None:
    per_worker = ", ".join(
        f"{w['rss_mb']:.0f}/{w['pss_mb']:.0f}/{w['private_mb']:.0f}"
        for w in result["worker_memory"]
    )
    loaded = result["after_load"]
    private = "/".join(f"{w['private_mb']:.0f}" for w in loaded["worker_memory"])
    print(
        f"\n{result['items']:,} items: server ready in {result['ready_seconds']:.1f}s; before "
        f"any request RSS {loaded['rss_mb']:.0f} MB, PSS {loaded['pss_mb']:.0f} MB, workers' "
        f"private {private} MB"
    )
    print(
        f"after the runs, {result['processes']} processes: RSS {result['rss_mb']:.0f} MB, PSS "
        f"{result['pss_mb']:.0f} MB; {result['workers']} worker(s) RSS/PSS/private MB: {per_worker}"
    )
    head = ("route", "conns", "req/s", "p50 ms", "p99 ms", "vs /health", "errors")
    print("  {:<16} {:>5} {:>8} {:>7} {:>7} {:>10} {:>6}".format(*head))
    for r in result["rows"]:
        print(
            f"  {r['route']:<16} {r['connections']:>5} {r['rps']:>8.0f} {r['p50_ms']:>7.1f} "
            f"{r['p99_ms']:>7.1f} {r['ratio']:>10.2f} {r['failures']:>6}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="workspace", help="scale workspaces: <ws>/bench/")
    parser.add_argument("--items", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="2,000 items, 3 s per row")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--rank-threads", type=int, default=None, help="RECSYS_RANK_THREADS of the server"
    )
    parser.add_argument(
        "--served", default=None, help="benchmark this trained workspace instead of --items"
    )
    args, _ = parser.parse_known_args(argv)
    if args.quick:
        args.items, args.seconds = [2_000], 3.0
    require_wrk()
    root = Path(args.workspace) / "bench"
    sizes = [None] if args.served else args.items
    results = [bench_size(root, n, args) for n in sizes]
    for result in results:
        print_table(result)
    for result in results:
        if result["items"] < 100_000:
            continue
        for goal in (r for r in result["rows"] if r["route"].startswith("user ")):
            if goal["connections"] != 16:
                continue
            ok = goal["ratio"] >= GOAL_RATIO and goal["p99_ms"] <= GOAL_P99_MS
            print(
                f"goal at {result['items']:,} items ({goal['route']}: >= {GOAL_RATIO} x /health, "
                f"p99 <= {GOAL_P99_MS:.0f} ms at 16 conns): {'met' if ok else 'MISSED'}"
            )
    out = Path(args.workspace) / "reports" / "benchmarks" / "serving.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out}")
    bad = sum(r["failures"] for result in results for r in result["rows"])
    if bad:
        raise RuntimeError(f"{bad} failed requests (see the statuses in {out})")


if __name__ == "__main__":
    main()
