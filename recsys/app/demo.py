"""`recsys demo` (= `make run`): the whole pipeline on the synthetic catalog, then the server.

Every stage is the same function its own CLI command calls, so the demo proves the commands
compose. Re-running is idempotent: the dataset is regenerated only when its config changed,
embeddings are incremental, and each train/index run is a new versioned artifact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from recsys.core.workspace import Workspace


def _stage(name: str, fn: Callable[[], str | None], timings: dict[str, float]) -> None:
    print(f"==> {name}", flush=True)
    start = time.perf_counter()
    summary = fn()
    timings[name] = time.perf_counter() - start
    if summary:
        print(summary, flush=True)
    print(f"    {name} took {timings[name]:.1f}s", flush=True)


def _synth_if_needed(out: Path, cfg) -> str:
    from dataclasses import asdict

    from recsys.datasets.synthetic import generate

    manifest = out / "dataset.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("config") == asdict(cfg):
        return f"synth: {out} already holds this dataset (delete it to regenerate)"
    return generate(cfg, out)


def run_demo(
    ws: Workspace,
    host: str = "127.0.0.1",
    port: int = 8000,
    items: int = 2000,
    users: int = 1000,
    interactions: int = 100_000,
    serve: bool = True,
) -> str:
    from features.jobs.embed import run_embed
    from recsys.app.evaluate import run_evaluate
    from recsys.app.publish import run_index
    from recsys.app.train import run_train
    from recsys.datasets.preprocess import preprocess
    from recsys.datasets.synthetic import SynthConfig

    ws.ensure()
    raw = ws.raw_dir / "synthetic"
    cfg = SynthConfig(items=items, users=users, interactions=interactions, seed=0, media=True)
    timings: dict[str, float] = {}
    _stage("synth", lambda: _synth_if_needed(raw, cfg), timings)
    _stage("preprocess", lambda: preprocess(raw, ws), timings)
    _stage("embed", lambda: run_embed(ws, modalities=None, engine="local"), timings)
    _stage("train", lambda: run_train(ws, update=False), timings)
    _stage("index", lambda: run_index(ws, kind=None), timings)
    report = ws.reports_dir / "demo"
    _stage("evaluate", lambda: run_evaluate(ws, report), timings)

    total = sum(timings.values())
    print(
        "\nstage timings: "
        + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
        + f" (total {total:.1f}s)"
    )
    print(f"evaluation report: {report / 'report.html'}")
    if not serve:
        return "demo: pipeline complete (not serving)"
    url = f"http://{host}:{port}"
    print(f"\nserving on {url}  (web page: {url}/ , API docs: {url}/docs)")
    print(f"try: curl -s '{url}/users/1/recommendations?k=5'\n", flush=True)
    from serving.run import run_server

    # the demo page lists the synthetic users and their histories: public on the demo only
    run_server(ws, host=host, port=port, public_user_pages=True)
    return "demo: server stopped"
