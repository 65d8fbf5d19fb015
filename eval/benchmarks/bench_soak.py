"""Soak: a real `recsys serve` driven by `wrk` at its maximum rate for minutes, route mix.

Starts `recsys serve` on the workspace's served run and drives it with `wrk` (a Lua script:
known users' recommendations, anonymous sessions with a history, similar items, text search,
`/health`) for ``--seconds``, while a separate light probe (its own connection) times
``GET /health`` every 100 ms. Reports the requests served, non-2xx answers and socket errors
(goal: none), the server's RSS after the warm-up and at the end (goal: under 10 % growth) and
the probe's p50/p99 (goal: p99 < 100 ms), and writes them as JSON (default
``<workspace>/reports/benchmarks/soak.json``). Fails on errors or RSS growth; timing is
reported, never failed on (the box may be shared).

Only valid requests are in the mix: similar-items ids are those that answered 200 during the
warm-up. ``--connections`` defaults to what the heavy pool admits at once (serving/heavy.py:
``workers + max_waiting``; text search beyond that is refused with 503 by design, and under
saturation most connections sit waiting on the slowest route, search): enough to keep both
cores busy, never a deliberate 503. Every request says ``Cache-Control: no-cache``: the
soak keeps the ranking pipeline busy, as before answers were kept (serving/response_cache.py).

    python -m eval.benchmarks soak --workspace ws-demo --seconds 300
    python -m eval.benchmarks soak --workspace ws-demo --quick     # 30 s

Needs `wrk` on PATH (`make bench` installs the Debian package).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from eval.benchmarks.bench_serving import NO_CACHE
from eval.benchmarks.wrk import Request, cpu_seconds, require_wrk, rss_bytes, run_wrk, write_script

QUERIES = ("a space adventure", "a scary night", "a funny family film", "a love story")
MIX = {"user": 35, "session": 25, "similar": 20, "search": 15, "health": 5}  # weights
GOAL_HEALTH_P99_MS = 100.0
GOAL_RSS_GROWTH = 0.10


class HealthProbe(threading.Thread):
    """``GET /health`` every ``every`` seconds on its own connection until stopped."""

    def __init__(self, base: str, every: float = 0.1):
        super().__init__(daemon=True)
        self.base, self.every = base, every
        self.stop = threading.Event()
        self.ms: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                try:
                    r = client.get("/health")
                    if r.status_code != 200:
                        self.failures.append(f"status {r.status_code}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.ms.append((time.perf_counter() - t0) * 1000)
                self.stop.wait(max(0.0, self.every - (time.perf_counter() - t0)))


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 5.0):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.stop = threading.Event()
        self.samples: list[tuple[float, int]] = []

    def run(self) -> None:
        start = time.monotonic()
        while not self.stop.wait(self.every):
            self.samples.append((round(time.monotonic() - start, 1), rss_bytes(self.pid)))


def _pick_similar(base: str, items: np.ndarray) -> tuple[list[int], int]:
    """Items whose /similar answers 200 (others have no vectors: a 409, not load)."""
    import httpx

    ok = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for item in items:
            if client.get(f"/items/{int(item)}/similar?k=10").status_code == 200:
                ok.append(int(item))
    return ok, len(items) - len(ok)


def _warm_up(base: str, users, sessions: list[dict], searches: list[dict]) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=120) as client:
        for i in range(20):  # lazy loads (encoder, pipeline arrays) happen on first use
            for method, path, body in (
                ("GET", f"/users/{int(users[i % len(users)])}/recommendations?k=10", None),
                ("POST", "/recommendations", sessions[i % len(sessions)]),
                ("POST", "/search", searches[i % len(searches)]),
            ):
                r = client.request(method, path, json=body)
                if r.status_code != 200:
                    raise RuntimeError(f"warm-up {method} {path} -> {r.status_code}: {r.text}")


def _drain(base: str, search: dict) -> None:
    """Wait out the work wrk left in flight when it stopped (the server finishes it anyway).

    The heavy pool is first-in first-out: a search sent now returns once the abandoned ones
    ahead of it have started; a second one once they are done.
    """
    import httpx

    with httpx.Client(base_url=base, timeout=300) as client:
        for _ in range(2):
            client.post("/search", json=search).raise_for_status()


def _requests(users, items, sessions: list[dict], searches: list[dict]) -> dict:
    prepared: dict[str, list[Request]] = {
        "user": [("GET", f"/users/{int(u)}/recommendations?k=10", None) for u in users],
        "session": [("POST", "/recommendations", b) for b in sessions],
        "similar": [("GET", f"/items/{int(i)}/similar?k=10", None) for i in items],
        "search": [("POST", "/search", b) for b in searches],
        "health": [("GET", "/health", None)],
    }
    return prepared


def _pct(ms: list[float]) -> dict:
    a = np.asarray(ms) if ms else np.zeros(1)
    p50, p99 = np.percentile(a, [50, 99])
    return {"n": len(ms), "p50_ms": float(p50), "p99_ms": float(p99), "max_ms": float(a.max())}


def main(argv: list[str] | None = None) -> None:
    from recsys.core.catalog import load_workspace_catalog
    from recsys.core.workspace import Workspace
    from serving import heavy
    from serving.process import HOST, free_port, start_server, stop_server, wait_ready

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="workspace")
    parser.add_argument("--seconds", type=float, default=300.0, help="soak duration")
    parser.add_argument("--warmup", type=float, default=10.0, help="wrk seconds before RSS start")
    parser.add_argument("--connections", type=int, help="default: the heavy pool's capacity")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--quick", action="store_true", help="30 s soak, 5 s warm-up")
    parser.add_argument("--out", type=Path, help="JSON results (default <ws>/reports/benchmarks)")
    args, _ = parser.parse_known_args(argv)
    if args.quick:
        args.seconds, args.warmup = 30.0, 5.0
    if args.connections is None:  # the server computes the same on this machine
        args.connections = heavy.DEFAULT_WORKERS + heavy.DEFAULT_MAX_WAITING
    require_wrk()
    ws = Workspace(Path(args.workspace))
    out = args.out or ws.reports_dir / "benchmarks" / "soak.json"
    catalog = load_workspace_catalog(ws)
    rng = np.random.default_rng(0)
    users = rng.permutation(catalog.interactions["user_id"].unique().to_numpy())[:1000]
    all_items = catalog.items["item_id"].to_numpy()
    sessions = [{"history": rng.choice(all_items, 5).tolist(), "k": 10} for _ in range(200)]
    searches = [{"query": q, "k": 10} for q in QUERIES]
    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    port, log = free_port(), tmp / "server.log"
    base = f"http://{HOST}:{port}"
    proc = start_server(ws.root, port, log, {"RECSYS_DEVICE": "cpu"})
    try:
        wait_ready(base, proc, log, timeout=600)
        _warm_up(base, users, sessions, searches)
        items, no_vectors = _pick_similar(base, rng.permutation(all_items)[:300])
        if not items:
            raise RuntimeError("no item answers /items/{id}/similar with 200")
        script = write_script(
            tmp / "mix.lua", _requests(users, items, sessions, searches), MIX, NO_CACHE
        )
        run_wrk(base, script, args.warmup, args.connections, args.threads)  # allocator warm-up
        _drain(base, searches[0])
        rss_start, cpu_start = rss_bytes(proc.pid), cpu_seconds(proc.pid)
        load_start = os.getloadavg()
        probe, sampler = HealthProbe(base), RssSampler(proc.pid)
        probe.start()
        sampler.start()
        started = time.perf_counter()
        soak = run_wrk(base, script, args.seconds, args.connections, args.threads)
        wall = time.perf_counter() - started
        for worker in (probe, sampler):
            worker.stop.set()
            worker.join()
        rss_end, cpu_end = rss_bytes(proc.pid), cpu_seconds(proc.pid)
        load_end = os.getloadavg()
        alive = proc.poll() is None
    finally:
        stop_server(proc)
    errors = soak["errors"]
    non_2xx = sum(v for k, v in soak["statuses"].items() if not k.startswith("2"))
    bad = non_2xx + errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    bad += len(probe.failures)
    growth = rss_end / rss_start - 1
    health = _pct(probe.ms)
    mb = 1 / 2**20
    results = {
        "workspace": str(ws.root),
        "dataset": catalog.summary(),
        "load": {
            "seconds": args.seconds,
            "wall_seconds": round(wall, 1),
            "warmup_seconds": args.warmup,
            "wrk_connections": args.connections,
            "wrk_threads": args.threads,
            "mix_weights": MIX,
            "cpus": os.cpu_count(),
            "loadavg_start": load_start,
            "loadavg_end": load_end,
            "server_cpu_seconds": round(cpu_end - cpu_start, 1),
            "similar_items_skipped_no_vectors": no_vectors,
        },
        "requests": soak["requests"],
        "requests_per_second": soak["requests"] / (soak["duration_us"] / 1e6),
        "sent_by_kind": soak["sent"],
        "statuses": soak["statuses"],
        "socket_errors": {k: v for k, v in errors.items() if k != "status"},
        "non_2xx": non_2xx,
        "latency_ms": {k: v / 1000 for k, v in soak["latency_us"].items()},
        "health_probe": {**health, "failures": probe.failures[:20]},
        "rss_mb": {
            "start": rss_start * mb,
            "end": rss_end * mb,
            "max": max([rss_start, *(s for _, s in sampler.samples)]) * mb,
            "growth": growth,
            "samples": [(t, round(s * mb, 1)) for t, s in sampler.samples],
        },
        "server_alive_at_end": alive,
        "goals": {
            "no_errors": bad == 0,
            "rss_growth_under_10pct": growth < GOAL_RSS_GROWTH,
            "health_p99_under_100ms": health["p99_ms"] < GOAL_HEALTH_P99_MS,
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    lat = results["latency_ms"]
    print(f"{catalog.summary()}; {args.seconds:.0f} s at wrk's max rate, {args.connections} conns")
    print(
        f"requests {soak['requests']:,} ({results['requests_per_second']:.0f}/s), "
        f"p50 {lat['p50']:.1f} ms p99 {lat['p99']:.1f} ms; by kind {soak['sent']}"
    )
    sockets, failures = results["socket_errors"], len(probe.failures)
    print(f"non-2xx {non_2xx}, socket errors {sockets}, /health probe failures {failures}")
    print(
        f"RSS {rss_start * mb:.0f} MB -> {rss_end * mb:.0f} MB ({growth:+.1%}; goal < "
        f"{GOAL_RSS_GROWTH:.0%}: {'met' if growth < GOAL_RSS_GROWTH else 'MISSED'})"
    )
    ok = health["p99_ms"] < GOAL_HEALTH_P99_MS
    print(
        f"/health probe n={health['n']} p50 {health['p50_ms']:.1f} ms p99 {health['p99_ms']:.1f}"
        f" ms max {health['max_ms']:.1f} ms (goal p99 < {GOAL_HEALTH_P99_MS:.0f} ms: "
        f"{'met' if ok else 'missed'})"
    )
    print(f"written to {out}")
    if bad or not alive or growth >= GOAL_RSS_GROWTH:
        raise RuntimeError(
            f"soak failed: {bad} errors, alive={alive}, RSS growth {growth:+.1%}; server log {log}"
        )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
