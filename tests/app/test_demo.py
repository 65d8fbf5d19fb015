"""`recsys demo` (= `make run`): the background evaluation, the readiness banner, the demo's
pipeline.json, and (slow) the whole command on a tiny catalog with a real server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from recsys.app import demo
from recsys.app.demo import BackgroundEvaluation, announce_ready, write_demo_configs
from recsys.core.workspace import Workspace
from tests.conftest import REPO_ROOT, TINY


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_background_evaluation_logs_and_announces_the_report(tmp_path, capsys):
    ws = Workspace(tmp_path / "ws").ensure()
    report = ws.reports_dir / "demo"
    job = BackgroundEvaluation.start(ws, report, _python("print('evaluate: 7 models')"))
    job.announce()  # waits for the child
    assert job.log.read_text() == "evaluate: 7 models\n"
    out = capsys.readouterr().out
    assert "evaluation done" in out and str(report / "report.html") in out
    job.stop()  # already finished: nothing to stop, nothing said
    assert capsys.readouterr().out == ""


def test_background_evaluation_failure_points_at_its_log(tmp_path, capsys):
    ws = Workspace(tmp_path / "ws").ensure()
    job = BackgroundEvaluation.start(ws, ws.reports_dir / "demo", _python("raise SystemExit(3)"))
    job.announce()
    out = capsys.readouterr().out
    assert "evaluation failed (exit status 3)" in out and str(job.log) in out


def test_stopping_the_server_stops_an_unfinished_evaluation(tmp_path, capsys):
    ws = Workspace(tmp_path / "ws").ensure()
    code = "import time; time.sleep(60)"
    job = BackgroundEvaluation.start(ws, ws.reports_dir / "demo", _python(code))
    job.stop()
    assert job.process.returncode is not None and job.process.returncode < 0  # SIGTERM
    assert "rerun: recsys evaluate --report" in capsys.readouterr().out
    # Ctrl-C reaches the child first (one process group): stopping still says so
    job = BackgroundEvaluation.start(ws, ws.reports_dir / "demo", _python(code))
    job.process.send_signal(signal.SIGINT)
    job.process.wait(timeout=30)
    job.stop()
    assert "rerun: recsys evaluate --report" in capsys.readouterr().out


def test_background_evaluation_runs_at_low_priority(tmp_path):
    if not hasattr(os, "getpriority"):
        pytest.skip("no process priorities on this platform")
    ws = Workspace(tmp_path / "ws").ensure()
    code = "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"
    job = BackgroundEvaluation.start(ws, ws.reports_dir / "demo", _python(code))
    job.process.wait()
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert int(job.log.read_text()) == min(mine + 10, 19)


class _Ready(BaseHTTPRequestHandler):
    """/ready answers 503 "loading" twice, then 200 (or "error" when the server says so)."""

    calls = 0
    fail = False

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).calls += 1
        if type(self).fail:
            code, body = 503, {"status": "error", "error": "run has no pipeline"}
        elif type(self).calls <= 2:
            code, body = 503, {"status": "loading"}
        else:
            code, body = 200, {"status": "ready"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def ready_server():
    _Ready.calls, _Ready.fail = 0, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_banner_comes_once_the_run_is_loaded(ready_server, capsys):
    url = f"http://127.0.0.1:{ready_server}"
    announce_ready(url, "0.0.0.0", ready_server, timeout=20)
    out = capsys.readouterr().out
    assert _Ready.calls == 3  # two "loading" answers, then ready
    assert out.strip().splitlines()[-2].startswith(f"serving on {url}")


def test_no_banner_when_the_run_fails_to_load(ready_server, capsys):
    _Ready.fail = True
    announce_ready(f"http://127.0.0.1:{ready_server}", "127.0.0.1", ready_server, timeout=20)
    out = capsys.readouterr().out
    assert "did not load: run has no pipeline" in out and "serving on" not in out


def test_no_banner_when_nothing_listens(capsys):
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    announce_ready(f"http://127.0.0.1:{port}", "127.0.0.1", port, timeout=1)
    assert "not ready after 1s" in capsys.readouterr().out


def test_demo_embed_config_is_written_once_and_yours_is_kept(tmp_path, monkeypatch):
    from features.jobs.config import EmbedConfig

    ws = Workspace(tmp_path / "ws").ensure()
    monkeypatch.setattr(demo, "DEMO_EMBED", {"batch_size": 7})
    assert write_demo_configs(ws) == []
    assert EmbedConfig.load(ws).batch_size == 7  # what `recsys embed` reads
    assert write_demo_configs(ws) == []  # the demo's own file: nothing to say
    (ws.root / "embed.json").write_text(json.dumps({"batch_size": 3}))
    notes = write_demo_configs(ws)
    assert len(notes) == 1 and "embed.json" in notes[0]
    assert json.loads((ws.root / "embed.json").read_text()) == {"batch_size": 3}


def test_the_demo_embed_config_is_valid():
    from features.encoders import encoder_parameters
    from features.jobs.config import EmbedConfig

    cfg = EmbedConfig.model_validate(demo.DEMO_EMBED)
    for modality, options in cfg.encoder_options.items():  # each an argument of its encoder
        assert set(options) <= encoder_parameters(getattr(cfg.encoders, modality)), modality


@pytest.mark.slow
def test_recsys_demo_serves_then_writes_the_report(tmp_path):
    """The whole `recsys demo` on a tiny catalog: short output ending with the URL, a server
    that answers, then the background evaluation's report."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ws = tmp_path / "ws"
    cmd = [sys.executable, "-m", "recsys.app.cli", "--workspace", str(ws), "demo"]
    cmd += ["--port", str(port), "--items", str(TINY["items"]), "--users", str(TINY["users"])]
    cmd += ["--interactions", str(TINY["interactions"])]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 600
        while not any(line.startswith("serving on") for line in lines):
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(1)
        shown = [line for line in "".join(lines).replace("\r", "\n").splitlines() if line]
        assert len(shown) <= 100, "\n".join(shown)
        assert shown[-2].startswith(f"serving on http://127.0.0.1:{port}")
        r = httpx.get(f"http://127.0.0.1:{port}/users/1/recommendations?k=3", timeout=30)
        assert r.status_code == 200 and len(r.json()["items"]) == 3
        report = Path(ws) / "reports" / "demo" / "report.html"
        while not any("evaluation done" in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(2)
        assert report.is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert proc.returncode == 0, "".join(lines)
