"""A two-node Ray cluster and an S3-compatible server, as separate processes on this machine.

Both are started the way an operator would (`ray start`, `moto_server`) and torn down by the
process ids this module started, never by name: other jobs on the machine may run Ray too.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from serving.process import HOST, free_port

BIN = Path(sys.executable).parent
OBJECT_STORE_BYTES = 200 * 2**20  # per node; the job moves a few MB
BUCKET = "recsys-scale"

# Printed by a throwaway driver: the ids of the cluster's live nodes.
LIST_NODES = (
    "import json, ray; ray.init(log_to_driver=False, configure_logging=False); "
    "print(json.dumps(sorted(n['NodeID'] for n in ray.nodes() if n['Alive'])))"
)


@dataclass(frozen=True)
class RayCluster:
    address: str  # head GCS, host:port (what RAY_ADDRESS names)
    node_ids: frozenset[str]
    env: dict[str, str]  # what a driver needs to join: RAY_ADDRESS and the auth token


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    env: dict[str, str]  # AWS_* for LanceDB's object store (and boto3)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self, prefix: str) -> list[str]:
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def _distinct_ports(n: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


def _node_ports() -> list[str]:
    """Every port a node binds, chosen free: two raylets share this host (and other jobs')."""
    names = (
        "--node-manager-port",
        "--object-manager-port",
        "--dashboard-agent-listen-port",
        "--dashboard-agent-grpc-port",
        "--runtime-env-agent-port",
        "--metrics-export-port",
    )
    ports = _distinct_ports(len(names))
    return [arg for name, port in zip(names, ports, strict=True) for arg in (name, str(port))]


def _start_node(
    args: list[str], temp_dir: Path, log: Path, env: dict[str, str]
) -> subprocess.Popen:
    """`ray start … --block`: the command stays in the foreground and, on SIGTERM, stops the
    node's processes (GCS, raylet, workers) itself."""
    temp_dir.mkdir(parents=True)
    cmd = [str(BIN / "ray"), "start", *args, "--temp-dir", str(temp_dir), "--block"]
    cmd += ["--num-cpus", "1", "--num-gpus", "0", "--object-store-memory", str(OBJECT_STORE_BYTES)]
    cmd += ["--node-ip-address", HOST, "--disable-usage-stats", *_node_ports()]
    with open(log, "wb") as out:
        return subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _live_nodes(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", LIST_NODES], env=env, capture_output=True, text=True, timeout=60
    )
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if done.returncode == 0 and lines else []  # [] = not up yet


def _stop(procs: list[subprocess.Popen], grace: float = 10) -> None:
    """SIGTERM all, then SIGKILL each one's session (each was started in a session of its own)
    when it is not gone within ``grace`` seconds (a node that ran Ray Data actors can take
    longer than that to drain; nothing of the test's survives it)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _kill_leftovers(marker: str) -> list[int]:
    """SIGKILL processes whose command line names ``marker`` (this fixture's temp dir)."""
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone already, or not ours to read
        if marker in cmdline and int(entry.name) != os.getpid():
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except ProcessLookupError:
                pass
    return killed


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    """A head and a worker node, one CPU each, token auth on, in their own temp dirs."""
    if not (BIN / "ray").exists():
        pytest.skip('needs Ray: pip install "ray[data]"')
    root = Path(tempfile.mkdtemp(prefix="rs-", dir="/tmp"))  # short: Unix socket paths ≤ 107
    base = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = {**base, **auth, "RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1"}
    head_port, dashboard_port = _distinct_ports(2)
    address = f"{HOST}:{head_port}"
    procs: list[subprocess.Popen] = []
    try:
        head_args = ["--head", "--port", str(head_port), "--include-dashboard", "false"]
        head_args += ["--dashboard-port", str(dashboard_port)]
        procs.append(_start_node(head_args, root / "head", root / "head.log", env))
        procs.append(_start_node(["--address", address], root / "worker", root / "worker.log", env))
        driver_env = {**env, "RAY_ADDRESS": address}
        deadline = time.monotonic() + 180
        nodes: list[str] = []
        while len(nodes) < 2:
            for proc, name in zip(procs, ("head", "worker"), strict=True):
                if proc.poll() is not None:
                    pytest.fail(f"ray {name} exited:\n{(root / f'{name}.log').read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"two Ray nodes not up in 180 s (alive: {nodes})")
            time.sleep(2)
            nodes = _live_nodes(driver_env)
        yield RayCluster(address, frozenset(nodes), {**auth, "RAY_ADDRESS": address})
    finally:
        _stop(procs)
        _kill_leftovers(str(root))
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """moto's S3-compatible server in its own process, with one empty bucket."""
    pytest.importorskip("moto.server", reason="needs moto[server] (dev extras)")
    pytest.importorskip("boto3")
    import httpx

    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    endpoint = f"http://{HOST}:{port}"
    cmd = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited:\n{log.read_text()[-4000:]}")
            try:
                httpx.get(endpoint, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto server not answering in 60 s:\n{log.read_text()[-4000:]}")
                time.sleep(0.3)
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,  # read by LanceDB's object store and by boto3 alike
            "AWS_ALLOW_HTTP": "true",  # a local endpoint without TLS
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        server = S3Server(endpoint, BUCKET, env)
        server.client().create_bucket(Bucket=BUCKET)
        yield server
    finally:
        _stop([proc])
