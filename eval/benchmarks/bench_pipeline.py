"""The served ranking path at one connection: p50/p99 of recommendations vs `/health`.

Starts a real `recsys serve` on the workspace's served run and asks, one request at a time
(one connection: the latency a single client sees, not throughput), for known users'
recommendations, anonymous sessions (a few liked ids) and text queries; `/health` of the
same server in the same run is the reference. Prints p50/p99 per kind and the ratio of each
p99 to the reference's; exits non-zero only on errors, never on timing.

    python -m eval.benchmarks pipeline --workspace ws-ml
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

QUERIES = ("a space adventure", "a scary night", "a funny family film", "a love story")
GOAL_P99_MS = 25.0  # issue "One ranking pipeline": served path, one connection, ml-latest-small


def _time(client, url: str | Callable[[int], str], n: int, **kw) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        start = time.perf_counter()
        r = client.get(url(i), **kw) if callable(url) else client.get(url, **kw)
        out[i] = (time.perf_counter() - start) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"{r.request.url} -> {r.status_code}: {r.text[:200]}")
    return out


def _post(client, path: str, bodies: list[dict]) -> np.ndarray:
    out = np.empty(len(bodies))
    for i, body in enumerate(bodies):
        start = time.perf_counter()
        r = client.post(path, json=body)
        out[i] = (time.perf_counter() - start) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"{path} -> {r.status_code}: {r.text[:200]}")
    return out


def main(argv: list[str] | None = None) -> None:
    import httpx

    from recsys.core.catalog import load_workspace_catalog
    from recsys.core.workspace import Workspace
    from serving.process import served

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="workspace")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="60 requests per kind")
    args, _ = parser.parse_known_args(argv)
    n = 60 if args.quick else args.requests
    ws = Workspace(Path(args.workspace))
    catalog = load_workspace_catalog(ws)
    users = catalog.interactions["user_id"].unique().sort().to_numpy()
    items = catalog.items["item_id"].to_numpy()
    rng = np.random.default_rng(0)
    log = Path(tempfile.mkdtemp(prefix="bench-pipeline-")) / "server.log"
    with (
        served(ws.root, log, {"RECSYS_DEVICE": "cpu"}) as base,
        httpx.Client(base_url=base, timeout=60) as client,  # one connection, reused
    ):
        _time(client, "/health", 20)  # warm-up: first requests load lazily
        _time(client, lambda i: f"/users/{users[i % len(users)]}/recommendations", 10)
        _post(client, "/recommendations", [{"text": q} for q in QUERIES])  # loads the encoder
        results = {"/health (reference)": _time(client, "/health", n)}
        picked = rng.choice(users, n)
        results["known user, k=10"] = _time(
            client, lambda i: f"/users/{picked[i]}/recommendations?k=10", n
        )
        sessions = [{"history": rng.choice(items, 5).tolist(), "k": 10} for _ in range(n)]
        results["anonymous session"] = _post(client, "/recommendations", sessions)
        texts = [{"text": QUERIES[i % len(QUERIES)], "k": 10} for i in range(n)]
        results["text query"] = _post(client, "/recommendations", texts)
    ref = np.percentile(results["/health (reference)"], 99)
    print(f"{catalog.summary()}; {n} sequential requests per kind, one connection")
    print(f"{'kind':28s} {'p50 ms':>8s} {'p99 ms':>8s} {'p99 / ref':>10s}")
    for kind, ms in results.items():
        p50, p99 = np.percentile(ms, [50, 99])
        print(f"{kind:28s} {p50:8.2f} {p99:8.2f} {p99 / ref:10.1f}")
    known = np.percentile(results["known user, k=10"], 99)
    verdict = "met" if known <= GOAL_P99_MS else f"missed by {known - GOAL_P99_MS:.1f} ms"
    print(f"goal: known-user p99 <= {GOAL_P99_MS:g} ms: {verdict}")


if __name__ == "__main__":
    main()
