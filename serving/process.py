"""`recsys serve` as a child process: what the serving benchmark and the live-server tests run.

A real process (not an in-process TestClient) is the point there: uvicorn, the lifespan, the
reload watcher and the OS socket are all exercised as a user would run them.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(
    workspace: Path,
    port: int,
    log: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> subprocess.Popen:
    """Start ``recsys serve`` on ``workspace``; stdout and stderr go to ``log``.

    ``env`` adds to (or overrides) this process's environment; the server never goes online.
    ``args`` are more `recsys serve` options (``["--workers", "2"]``).
    """
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    cmd = [sys.executable, "-m", "recsys.app.cli", "--workspace", str(workspace)]
    cmd += ["serve", "--host", HOST, "--port", str(port), *args]
    with open(log, "wb") as out:  # the child keeps its own handle
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env)


def wait_ready(
    base: str, proc: subprocess.Popen, log: Path, timeout: float = 120, workers: int = 1
) -> None:
    """Poll ``/ready`` until it answers 200 and every one of ``workers`` has loaded its engine.

    With several workers one 200 says only that the worker which took the connection is
    ready; the others may still be loading, so the log must also show one "engine … ready"
    line per worker.

    Raises:
        RuntimeError: the server exited first (the message holds its log).
        TimeoutError: not ready within ``timeout`` seconds (likewise).
    """
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200 and (
                workers == 1 or _engines_ready(log) >= workers
            ):
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.3)
    raise TimeoutError(f"server not ready within {timeout:.0f} s:\n{log.read_text()}")


def _engines_ready(log: Path) -> int:
    """How many "engine <run> ready in …" lines the server has logged (one per worker load)."""
    return sum(1 for line in log.read_text(errors="replace").splitlines() if _READY.search(line))


_READY = re.compile(r"engine \S+ ready in ")


def stop_server(proc: subprocess.Popen, grace: float = 20) -> int:
    """SIGTERM (uvicorn shuts down cleanly), then SIGKILL after ``grace`` seconds.

    Returns:
        The exit status: 0 for a clean stop, negative (the signal) when it had to be killed.
    """
    proc.terminate()
    try:
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _workers(args: Sequence[str]) -> int:
    """The ``--workers N`` among `recsys serve` options (1 when absent)."""
    args = list(args)
    return int(args[args.index("--workers") + 1]) if "--workers" in args else 1


@contextmanager
def served(
    workspace: Path,
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    args: Sequence[str] = (),
) -> Iterator[str]:
    """``recsys serve`` on a free port for the duration of the block; yields its base URL."""
    port = free_port()
    proc = start_server(workspace, port, log, env, args)
    try:
        base = f"http://{HOST}:{port}"
        wait_ready(base, proc, log, timeout, workers=_workers(args))
        yield base
    finally:
        stop_server(proc)
