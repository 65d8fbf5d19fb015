"""Serving throughput and latency: recommendations vs a trivial route of the same server.

Starts `recsys serve` (one uvicorn process) on a synthetic workspace, then drives it with an
async httpx client over ``--connections`` keep-alive connections:

1. ``GET /health`` (trivial route: the HTTP + framework floor), then
2. ``GET /users/{random user}/recommendations?k=10`` (candidates, ranking, explanations),
3. the same recommendations while ``artifacts/current`` is switched to a new run (hot reload).

Prints requests/s of both routes and their ratio (goal >= 0.5), p50/p99 latency (goal: p99 of
recommendations <= 25 ms measured one request at a time, so queueing behind 16 in-flight
requests does not count as service time), and failed requests during the reload (goal 0).

The catalog is synthetic: random unit vectors stand in for item_text (serving cost depends on
sizes, not on what the vectors mean; embedding 100k texts with MiniLM would dominate the run).

    python -m eval.benchmarks.bench_serving --items 100000
    python -m eval.benchmarks.bench_serving --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from recsys.core.runs import Run
from serving.process import HOST, free_port, start_server, stop_server, wait_ready

GOAL_RATIO, GOAL_P99_MS = 0.5, 25.0


def build_workspace(root: Path, items: int, users: int, per_user: int, seed: int = 0):
    """Canonical tables, popularity + item-kNN models and an item_text table, published."""
    import polars as pl

    from features.store import FeatureStore
    from recsys.core.catalog import Catalog
    from recsys.core.interactions import IdVocab
    from recsys.core.schemas import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
    from recsys.core.workspace import Workspace
    from recsys.models.itemknn import ItemKNN
    from recsys.models.popularity import Popularity

    rng = np.random.default_rng(seed)
    ws = Workspace(root)
    genres = ["Action", "Comedy", "Drama", "Sci-Fi", "Horror", "Romance", "Documentary"]
    ids = np.arange(1, items + 1, dtype=np.int64)
    item_df = pl.DataFrame(
        {
            "item_id": ids,
            "title": [f"Title {i}" for i in ids],
            "description": [None] * items,
            "genres": [[genres[i % len(genres)]] for i in range(items)],
            "tags": [[] for _ in range(items)],
            "year": (1950 + ids % 75).astype(np.int32),
            "poster_path": [None] * items,
            "trailer_path": [None] * items,
        },
        schema=ITEMS_SCHEMA,
    )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    user_df = pl.DataFrame(
        {"user_id": np.arange(1, users + 1), "created_at": [start] * users}, schema=USERS_SCHEMA
    )
    pop = rng.zipf(1.3, size=items * 4) % items  # long-tail item popularity
    n = users * per_user
    inter = pl.DataFrame(
        {
            "user_id": np.repeat(np.arange(1, users + 1), per_user),
            "item_id": ids[pop[rng.integers(0, len(pop), n)]],
            "timestamp": [start + timedelta(minutes=int(m)) for m in rng.integers(0, 500_000, n)],
            "kind": ["view"] * n,
            "rating": [None] * n,
            "review_text": [None] * n,
            "watch_fraction": [None] * n,
        },
        schema=INTERACTIONS_SCHEMA,
    ).unique(["user_id", "item_id"])
    Catalog(item_df, user_df, inter, None, "bench-synthetic").save(ws.data_dir)
    vocab = IdVocab.from_ids(ids)
    run = Run(ws.artifacts_dir / "run-a")
    Popularity.fit(inter, vocab).save(run.model_dir("popularity"))
    ItemKNN.fit(inter, vocab, neighbours=50).save(run.model_dir("itemknn"))
    run.write_manifest({"run_id": "run-a"})
    vecs = rng.standard_normal((items, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    FeatureStore(ws.lancedb_uri).write(
        "item", "text", ids, vecs, encoder="random", encoder_version="bench",
        content_hashes=[str(i) for i in ids], job_id="bench",
    )  # fmt: skip
    run.publish()
    return ws


def clone_run(ws, name: str) -> Path:
    """A new run whose model files are hard links of run-a's (a cheap "retrained" version)."""
    dst = ws.artifacts_dir / name
    shutil.copytree(ws.artifacts_dir / "run-a", dst, copy_function=os.link)
    (dst / "manifest.json").unlink()
    (dst / "manifest.json").write_text(json.dumps({"run_id": name}))
    return dst


async def drive(base: str, paths, connections: int, seconds: float, stop=None) -> dict:
    """Closed loop: ``connections`` workers, each one request at a time, for ``seconds``."""
    import httpx

    latencies, failures, versions = [], 0, set()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        end = time.perf_counter() + seconds

        async def worker(w: int) -> None:
            nonlocal failures
            i = w
            while time.perf_counter() < end and not (stop and stop.is_set()):
                t0 = time.perf_counter()
                try:
                    r = await client.get(paths(i))
                    ok = r.status_code == 200
                    if ok and "model_version" in r.text:
                        versions.add(r.json()["model_version"])
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                failures += not ok
                i += connections

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(connections)))
        wall = time.perf_counter() - t0
    lat = np.asarray(latencies) * 1000
    return {
        "requests": len(lat),
        "rps": len(lat) / wall,
        "failures": failures,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "versions": sorted(versions),
    }


async def reload_phase(base, ws, rec_path, connections, seconds) -> dict:
    task = asyncio.create_task(drive(base, rec_path, connections, seconds))
    await asyncio.sleep(seconds / 4)
    Run(clone_run(ws, "run-b")).publish()
    return await task


def server_share_within(base: str, route: str, seconds: float) -> float:
    """Share of ``route`` requests the server itself answered within ``seconds`` (/metrics)."""
    import httpx

    text = httpx.get(f"{base}/metrics", timeout=10).text
    within = total = 0.0
    for line in text.splitlines():
        if f'route="{route}"' not in line or line.startswith("#"):
            continue
        value = float(line.rsplit(" ", 1)[1])
        if (
            line.startswith("recsys_http_request_duration_seconds_bucket")
            and f'le="{seconds}"' in line
        ):
            within += value
        elif line.startswith("recsys_http_request_duration_seconds_count"):
            total += value
    return within / total if total else float("nan")


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--per-user", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="5k items, 3 s phases")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args, _ = parser.parse_known_args(argv)
    if args.quick:
        args.items, args.users, args.seconds = 5_000, 2_000, 3.0
    root = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    proc = None
    try:
        t0 = time.perf_counter()
        ws = build_workspace(root, args.items, args.users, args.per_user)
        print(
            f"workspace: {args.items:,} items, {args.users:,} users "
            f"({time.perf_counter() - t0:.1f}s to build)",
            flush=True,
        )
        port, log = free_port(), root / "server.log"
        base = f"http://{HOST}:{port}"
        proc = start_server(ws.root, port, log, {"RECSYS_RELOAD_POLL_SECONDS": "0.5"})
        t0 = time.perf_counter()
        wait_ready(base, proc, log, timeout=600)
        print(f"server ready in {time.perf_counter() - t0:.1f}s", flush=True)
        rng = np.random.default_rng(1)
        users = rng.integers(1, args.users + 1, 100_000)

        def rec_path(i: int) -> str:
            return f"/users/{users[i % len(users)]}/recommendations?k=10"

        asyncio.run(drive(base, rec_path, args.connections, 1.0))  # warm-up (lazy imports)
        trivial = asyncio.run(drive(base, lambda i: "/health", args.connections, args.seconds))
        recs = asyncio.run(drive(base, rec_path, args.connections, args.seconds))
        single = asyncio.run(drive(base, rec_path, 1, args.seconds / 2))
        reload = asyncio.run(reload_phase(base, ws, rec_path, args.connections, args.seconds * 2))
        share = server_share_within(base, "/users/{user_id}/recommendations", 0.025)
        ratio = recs["rps"] / trivial["rps"]
        results = {
            "items": args.items,
            "connections": args.connections,
            "trivial": trivial,
            "recommendations": recs,
            "recommendations_1conn": single,
            "reload": reload,
            "ratio": ratio,
            "server_share_within_25ms": share,
        }
        print(
            f"trivial  /health          {trivial['rps']:8.0f} req/s  p50 "
            f"{trivial['p50_ms']:.1f} ms  p99 {trivial['p99_ms']:.1f} ms"
        )
        print(
            f"recommendations ({args.connections} conn) {recs['rps']:8.0f} req/s  p50 "
            f"{recs['p50_ms']:.1f} ms  p99 {recs['p99_ms']:.1f} ms"
        )
        print(
            f"recommendations (1 conn)  {single['rps']:8.0f} req/s  p50 "
            f"{single['p50_ms']:.1f} ms  p99 {single['p99_ms']:.1f} ms  "
            f"(goal p99 <= {GOAL_P99_MS:.0f} ms: {_verdict(single['p99_ms'] <= GOAL_P99_MS)})"
        )
        print(
            f"throughput ratio recommendations / trivial: {ratio:.2f} "
            f"(goal >= {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'MISSED'})"
        )
        print(
            f"hot reload under load: {reload['requests']} requests, {reload['failures']} failed, "
            f"versions seen {reload['versions']} (goal 0 failed: "
            f"{'met' if reload['failures'] == 0 and 'run-b' in reload['versions'] else 'MISSED'})"
        )
        print(f"server-side: {share:.1%} of recommendation requests took <= 25 ms (from /metrics)")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
