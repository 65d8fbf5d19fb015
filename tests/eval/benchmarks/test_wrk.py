"""The benchmarks' load generator: weighted kinds, bodies, statuses and failures counted.

A stdlib HTTP server stands in for ours: what is tested is our Lua script and its parsing,
and a server that answers 404 to one route gives the failures a known answer. The memory
report is read from a real process tree: this test process and a child it starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eval.benchmarks.wrk import failures, process_memory, rss_bytes, run_wrk, write_script

needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk not installed (`make bench` / `make test` install it)"
)


class Handler(BaseHTTPRequestHandler):
    bodies: list[dict] = []
    cache_control: list[tuple[str, str | None]] = []  # (method, its Cache-Control header)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        Handler.cache_control.append(("GET", self.headers["Cache-Control"]))
        self._answer(200 if self.path == "/ok" else 404)

    def do_POST(self):  # noqa: N802
        Handler.cache_control.append(("POST", self.headers["Cache-Control"]))
        length = int(self.headers["Content-Length"])
        Handler.bodies.append(json.loads(self.rfile.read(length)))
        self._answer(200 if self.headers["Content-Type"] == "application/json" else 415)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture()
def base():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@needs_wrk
def test_mix_counts_kinds_statuses_and_failures(base, tmp_path):
    requests = {
        "ok": [("GET", "/ok", None)],
        "post": [("POST", "/p", {"text": 'a "quoted" mood', "k": 3})],
        "missing": [("GET", "/nope", None)],
        "unused": [],
    }
    weights = {"ok": 2, "post": 1, "missing": 1, "unused": 0}
    script = write_script(tmp_path / "mix.lua", requests, weights)
    summary = run_wrk(base, script, seconds=1, connections=2)
    sent = summary["sent"]
    assert set(sent) == {"ok", "post", "missing"} and summary["requests"] > 20
    assert sent["ok"] > sent["missing"]  # weight 2 vs 1 over dozens of draws
    # a few unanswered: in flight on the 2 connections at the stop, or reset as wrk closed
    # them (the stdlib server logs "Exception occurred during processing" for those)
    assert summary["statuses"]["404"] >= 0.95 * sent["missing"] - 2
    assert failures(summary) == summary["statuses"]["404"]
    assert Handler.bodies and Handler.bodies[0] == {"text": 'a "quoted" mood', "k": 3}


@needs_wrk
def test_every_request_carries_the_script_headers(base, tmp_path):
    requests = {"get": [("GET", "/ok", None)], "post": [("POST", "/p", {"k": 1})]}
    headers = {"Cache-Control": "no-cache"}
    script = write_script(tmp_path / "h.lua", requests, {"get": 1, "post": 1}, headers)
    Handler.cache_control.clear()
    summary = run_wrk(base, script, seconds=1, connections=1)
    assert failures(summary) == 0 and summary["sent"]["post"] > 0  # JSON type kept on POSTs
    assert {m for m, _ in Handler.cache_control} == {"GET", "POST"}
    assert {h for _, h in Handler.cache_control} == {"no-cache"}


def test_a_kind_without_requests_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no prepared requests"):
        write_script(tmp_path / "x.lua", {"a": []}, {"a": 1})


def test_process_memory_reports_every_process_of_the_tree():
    # the child maps a 32 MiB buffer and touches it, so its resident set must show it
    code = "import sys, time; b = bytearray(32 << 20); print('up', flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "up"
        tree = {m.pid: m for m in process_memory(os.getpid())}
        assert len(tree) >= 2 and child.pid in tree
        assert tree[child.pid].parent == os.getpid() and tree[os.getpid()].parent == 0
        assert "time.sleep(30)" in tree[child.pid].command
        assert tree[child.pid].rss_bytes >= 32 << 20
        assert tree[child.pid].private_bytes >= 32 << 20  # its own buffer, shared with no one
        for m in tree.values():
            assert 0 < m.private_bytes <= m.pss_bytes <= m.rss_bytes
        # the same tree rss_bytes sums (VmRSS and smaps Rss of one instant agree closely)
        total = sum(m.rss_bytes for m in tree.values())
        assert rss_bytes(os.getpid()) == pytest.approx(total, rel=0.1)
    finally:
        child.kill()
        child.wait()
