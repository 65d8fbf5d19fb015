"""Scale-out on the engines the project already has, all on this machine.

A two-node Ray cluster (`ray start`, separate processes) and an S3-compatible server (moto);
the real `recsys` commands with only the environment pointing them there: `embed --engine ray`
writes the feature store into the bucket (the job's own report says which Ray nodes encoded
the rows), `train` and `index` read it back, two `recsys serve` replicas on the same workspace
and store answer identically, and a newly published run — its ranker trained by XGBoost on
the cluster (Ray Train, one worker per node) — reaches both through hot reload.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from serving.process import HOST, free_port, start_server, stop_server, wait_ready

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

RECSYS = Path(sys.executable).parent / "recsys"  # the installed command, as a user runs it
STORE_PREFIX = "store"
SIZE = ["--items", "200", "--users", "100", "--interactions", "4000"]
# MiniLM modalities on Ray (image/video encoders cost minutes on two shared cores; the engine
# path is the same for every modality); ratings is a driver-side SVD, not a Ray job.
MODALITIES = "text,history_text,ratings"
RAY_TABLES = ("item_text", "user_history_text")
K = 10
USERS = 8


def recsys(ws: Path, *args: str, env: dict[str, str], timeout: float = 420) -> str:
    """Run ``recsys --workspace ws ARGS``; its output, or the test fails with it."""
    done = subprocess.run(
        [str(RECSYS), "--workspace", str(ws), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"recsys {' '.join(args)} exited {done.returncode}:\n{out[-6000:]}"
    return out


def recommendations(base: str, users: list[int]) -> dict[int, dict]:
    out = {}
    for user in users:
        r = httpx.get(f"{base}/users/{user}/recommendations", params={"k": K}, timeout=60)
        assert r.status_code == 200, r.text
        out[user] = r.json()
    return out


def wait_for_version(bases: list[str], version: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    seen: dict[str, str | None] = {}
    while time.monotonic() < deadline:
        seen = {b: httpx.get(f"{b}/version", timeout=10).json()["model_version"] for b in bases}
        if set(seen.values()) == {version}:
            return
        time.sleep(0.5)
    pytest.fail(f"replicas did not reload {version} within {timeout:.0f} s: {seen}")


def served_run(ws: Path) -> str:
    return (ws / "artifacts" / "current").resolve().name


def test_scale_out_ray_cluster_object_store_and_replicas(
    ray_cluster, s3_server, tmp_path, monkeypatch
):
    store_uri = f"s3://{s3_server.bucket}/{STORE_PREFIX}"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "RECSYS_"))}
    env = {
        **base_env,
        **s3_server.env,
        "HF_HUB_OFFLINE": "1",
        "RECSYS_DEVICE": "cpu",
        "RECSYS_LANCEDB_URI": store_uri,
    }
    ws = tmp_path / "ws"

    # --- data, then the embed job on the cluster, writing into the bucket -------------------
    recsys(ws, "data", "synth", *SIZE, "--no-media", env=env)
    recsys(ws, "preprocess", str(ws / "raw" / "synthetic"), env=env)
    # two encoder actors, one CPU each, on two one-CPU nodes: Ray must use both nodes
    (ws / "embed.json").write_text(json.dumps({"ray_actors": 2, "batch_size": 16}))
    # Ray Data hands out batches as soon as one actor is up; on two busy cores the second
    # actor's model load may lag, so the pool waits for both (a Ray Data setting, read by the
    # driver) and the node check below is not a race.
    ray_env = {**env, **ray_cluster.env, "RAY_DATA_DEFAULT_WAIT_FOR_MIN_ACTORS_S": "180"}
    out = recsys(ws, "embed", "--engine", "ray", "--modalities", MODALITIES, env=ray_env)
    assert "(ray)" in out and "on 2 Ray nodes" in out, out

    assert not (ws / "lancedb").exists(), "the store must live in the bucket, not the workspace"
    keys = s3_server.keys(f"{STORE_PREFIX}/")
    tables = {k.split("/")[1].removesuffix(".lance") for k in keys if k.count("/") >= 2}
    for table in (*RAY_TABLES, "item_ratings", "user_ratings", "item_fused", "jobs"):
        assert table in tables, f"{table} not in the bucket: {sorted(tables)}"
    assert any(k.startswith(f"{STORE_PREFIX}/item_text.lance/data/") for k in keys)

    # The job's own report, read back from the bucket: which Ray nodes encoded which rows.
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    from features.store import FeatureStore

    store = FeatureStore(store_uri)
    job = store.jobs().row(-1, named=True)
    summary = json.loads(job["summary"])
    assert job["status"] == "done" and summary["engine"] == "ray"
    for table in RAY_TABLES:
        nodes = summary[table]["nodes"]
        assert set(nodes) == ray_cluster.node_ids, (table, nodes, ray_cluster.node_ids)
        assert all(n > 0 for n in nodes.values())
        assert sum(nodes.values()) == summary[table]["encoded"] and not summary[table]["failed"]
    assert summary["item_text"]["encoded"] == 200 and summary["user_history_text"]["encoded"] == 100

    # --- train and index from the bucket ---------------------------------------------------
    recsys(ws, "train", env=env)
    recsys(ws, "index", env=env)
    first = served_run(ws)
    run_dir = ws / "artifacts" / first
    assert "text" in json.loads((run_dir / "manifest.json").read_text())["pipeline"]["modalities"]
    index_lineage = json.loads((run_dir / "index" / "manifest.json").read_text())["lineage"]
    assert index_lineage["uri"] == store_uri and index_lineage["table"] == "item_fused"

    # --- two API replicas on the same workspace and store -----------------------------------
    serve_env = {**env, "RECSYS_RELOAD_POLL_SECONDS": "1"}
    from recsys.core.catalog import load_workspace_catalog
    from recsys.core.workspace import Workspace

    catalog = load_workspace_catalog(Workspace(ws, store_uri))
    users = sorted({int(u) for u in catalog.interactions["user_id"].to_list()})[:USERS]
    procs, bases = [], []
    try:
        for i in range(2):
            port = free_port()
            log = tmp_path / f"replica-{i}.log"
            procs.append((start_server(ws, port, log, serve_env), log))
            bases.append(f"http://{HOST}:{port}")
        for base, (proc, log) in zip(bases, procs, strict=True):
            wait_ready(base, proc, log, timeout=180)
        versions = [httpx.get(f"{b}/version", timeout=10).json() for b in bases]
        for v in versions:
            assert v["model_version"] == first
            assert "text" in v["modalities"], v  # item vectors read from the bucket
        a, b = (recommendations(base, users) for base in bases)
        assert a == b, "replicas disagree"
        assert all(len(a[u]["items"]) == K and a[u]["model_version"] == first for u in users)

        # --- a new run, its ranker trained on the cluster, published while both serve ------
        (ws / "pipeline.json").write_text(json.dumps({"ranker_engine": "ray"}))
        recsys(ws, "train", env=ray_env, timeout=900)
        recsys(ws, "index", env=env)
        second = served_run(ws)
        assert second != first
        manifest = json.loads((ws / "artifacts" / second / "manifest.json").read_text())
        ranker = manifest["pipeline"]["ranker"]
        # one Ray Train worker per one-CPU node: both nodes trained the booster
        assert ranker["engine"] == "ray" and set(ranker["ray_nodes"]) == ray_cluster.node_ids
        wait_for_version(bases, second)
        a, b = (recommendations(base, users) for base in bases)
        assert a == b, "replicas disagree after the reload"
        assert all(a[u]["model_version"] == second for u in users)
    finally:
        for proc, _ in procs:
            stop_server(proc)
