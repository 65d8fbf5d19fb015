"""SIGTERM on a real `recsys serve`: in-flight requests finish, stalled ones are bounded, exit 0."""

from __future__ import annotations

import json
import signal
import socket
import time

from serving.process import HOST, free_port, start_server, wait_ready
from serving.settings import Settings

SHUTDOWN_GRACE_SECONDS = Settings.model_fields["shutdown_grace_seconds"].default


def _open_request(port: int, body: bytes, sent: int) -> socket.socket:
    """A POST /recommendations whose headers and first ``sent`` body bytes are on the wire."""
    conn = socket.create_connection((HOST, port), timeout=30)
    head = (
        f"POST /recommendations HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    conn.sendall(head + body[:sent])
    return conn


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return True
    return False


def test_sigterm_finishes_in_flight_requests_then_exits_0(serving_ws, tmp_path):
    log = tmp_path / "server.log"
    port = free_port()
    proc = start_server(serving_ws.root, port, log, {"RECSYS_DEVICE": "cpu"})
    try:
        wait_ready(f"http://{HOST}:{port}", proc, log)
        body = json.dumps({"history": [120, 121], "k": 3}).encode()
        in_flight = _open_request(port, body, sent=len(body) // 2)
        stalled = _open_request(port, body, sent=0)  # its body never comes
        time.sleep(0.5)  # both requests reach the app before the signal
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not _refuses_connections(port):  # no new work is taken once stopping
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.1)
        in_flight.sendall(body[len(body) // 2 :])
        response = in_flight.makefile("rb").read().decode()  # the server closes when done
        status_line, _, payload = response.partition("\r\n\r\n")
        assert status_line.startswith("HTTP/1.1 200"), response
        assert len(json.loads(payload)["items"]) == 3
        code = proc.wait(timeout=SHUTDOWN_GRACE_SECONDS + 30)
        assert code == 0, log.read_text()
        # the stalled request was given up on at the grace limit, not waited for forever
        assert time.monotonic() - stopped_at < SHUTDOWN_GRACE_SECONDS + 20
        stalled.close()
        in_flight.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
