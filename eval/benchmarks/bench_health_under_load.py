"""/health latency while the heavy routes (/v1/embeddings, /search) are saturated.

Starts `recsys serve` (one uvicorn process) on a built workspace (``make run`` or `recsys demo`:
a trained run and ``item_text``), measures ``GET /health`` alone, then again while
``--clients`` connections keep posting embedding batches (63 inputs of ~2k characters) and text
searches. Heavy work runs on the server's bounded pool (``serving/heavy.py``): what does not fit
is refused with 503 + ``Retry-After``, which the clients honour. Goal: /health p99 under load
< 100 ms (the test suite only checks loose bounds, being run in-process on shared cores).

    python -m eval.benchmarks health_under_load --workspace workspace
    python -m eval.benchmarks.bench_health_under_load --workspace workspace --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from serving.process import served

GOAL_P99_MS = 100.0
TOPICS = ["space adventure among the stars", "a love story by the sea", "haunted house at night"]
LONG = [" ".join([t] * 60)[:2000] for t in TOPICS]  # past MiniLM's 128-token window


async def probe(client, seconds: float, every: float = 0.05) -> list[float]:
    """``GET /health`` every ``every`` seconds for ``seconds``; latencies in ms."""
    latencies = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        r = await client.get("/health")
        latencies.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"/health answered {r.status_code}")
        await asyncio.sleep(every)
    return latencies


async def heavy_client(client, i: int, stop: asyncio.Event, codes: Counter) -> None:
    batch = {"model": "all-MiniLM-L6-v2", "input": LONG * 21}  # 63 inputs, ~126k characters
    while not stop.is_set():
        if i % 2:
            r = await client.post("/search", json={"query": LONG[i % len(LONG)], "k": 10})
        else:
            r = await client.post("/v1/embeddings", json=batch)
        codes[r.status_code] += 1
        if r.status_code == 503:
            await asyncio.sleep(float(r.headers.get("retry-after", "1")))


async def measure(base: str, clients: int, seconds: float) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:
        await client.post("/search", json={"query": "warm up", "k": 1})  # lazy model load
        idle = await probe(client, seconds / 2)
        stop, codes = asyncio.Event(), Counter[int]()
        tasks = [asyncio.create_task(heavy_client(client, i, stop, codes)) for i in range(clients)]
        await asyncio.sleep(1.0)  # let the pool fill first
        loaded = await probe(client, seconds)
        stop.set()
        await asyncio.gather(*tasks)
    return {"idle": _stats(idle), "loaded": _stats(loaded), "heavy_codes": dict(codes)}


def _stats(ms: list[float]) -> dict:
    a = np.asarray(ms)
    return {
        "n": len(a),
        "p50_ms": float(np.percentile(a, 50)),
        "p99_ms": float(np.percentile(a, 99)),
        "max_ms": float(a.max()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="workspace")
    parser.add_argument("--clients", type=int, default=64, help="heavy connections")
    parser.add_argument("--seconds", type=float, default=20.0, help="probing time under load")
    parser.add_argument("--quick", action="store_true", help="16 clients, 5 s under load")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args, _ = parser.parse_known_args(argv)
    if args.quick:
        args.clients, args.seconds = min(args.clients, 16), 5.0
    log = Path(tempfile.mkdtemp(prefix="bench-health-")) / "server.log"
    env = {"RECSYS_DEVICE": "cpu", "RECSYS_RELOAD_POLL_SECONDS": "0"}
    with served(Path(args.workspace), log, env, timeout=600) as base:
        res = asyncio.run(measure(base, args.clients, args.seconds))
    idle, loaded = res["idle"], res["loaded"]
    ok = loaded["p99_ms"] < GOAL_P99_MS
    print(f"/health idle        p50 {idle['p50_ms']:.1f} ms  p99 {idle['p99_ms']:.1f} ms")
    print(
        f"/health under load  p50 {loaded['p50_ms']:.1f} ms  p99 {loaded['p99_ms']:.1f} ms  "
        f"max {loaded['max_ms']:.1f} ms  (goal p99 < {GOAL_P99_MS:.0f} ms: "
        f"{'met' if ok else 'MISSED'})"
    )
    print(f"heavy requests by status ({args.clients} clients): {res['heavy_codes']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
