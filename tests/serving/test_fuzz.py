"""Schemathesis against a real `recsys serve`: no 5xx, every status and body as documented.

`st run` fuzzes every operation of /openapi.json (coverage, fuzzing and stateful phases) with
the API key sent, so the protected routes are exercised too. A failure prints schemathesis'
report: each case with a curl line that reproduces it.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.serving.conftest import LIVE_API_KEY

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# 501 is a documented answer here: picture search without a CLIP checkpoint (the suite has none)
CONFIG = """\
[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "501"]
"""


def _fuzz(base: str, tmp_path, seconds: int, max_examples: int) -> tuple[int, str]:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"]
    cmd += [f"{base}/openapi.json", "--header", f"X-API-Key: {LIVE_API_KEY}"]
    cmd += ["--checks", CHECKS, "--max-time", str(seconds), "--max-examples", str(max_examples)]
    cmd += ["--workers", "2", "--request-timeout", "30", "--generation-database", "none"]
    cmd += ["--no-color"]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=tmp_path, check=False
    )
    return done.returncode, done.stdout + done.stderr


def _generated(report: str) -> int:
    found = re.search(r"(\d+) generated", report)
    return int(found.group(1)) if found else 0


def test_fuzz_the_api(scratch_server, tmp_path):
    code, report = _fuzz(scratch_server, tmp_path, seconds=35, max_examples=30)
    assert code == 0, report[-30000:]
    # it reached the API, not just the spec: a time-bounded run makes ~100-300 cases on an idle
    # 2-core machine and fewer under load, so the floor is two cases per operation (18)
    assert _generated(report) >= 36, report[-5000:]


@pytest.mark.slow
def test_fuzz_the_api_longer(scratch_server, tmp_path):
    code, report = _fuzz(scratch_server, tmp_path, seconds=300, max_examples=500)
    assert code == 0, report[-30000:]
    assert _generated(report) > 1000, report[-5000:]
