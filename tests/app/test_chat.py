"""`recsys chat` fed from a pipe (real subprocess) and in-process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recsys.app.chat import TitleMatcher, run_chat

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def serving_ws(tmp_path_factory):
    """The serving suite's tiny workspace (each user loves one genre), built by its builder."""
    from serving.engine import EncoderPool
    from tests.serving.workspace import build_workspace

    encode = EncoderPool("minilm", device="cpu").embed_text
    return build_workspace(tmp_path_factory.mktemp("chat-ws"), encode)


def test_title_matcher_is_fuzzy_but_not_reckless():
    m = TitleMatcher(["The Matrix", "Alien", "Aliens", "Heat"], [1, 2, 3, 4])
    assert m.match("the matrix") == 1
    assert m.match("Teh Matrix") == 1
    assert m.match("matrix") == 1
    assert m.match("alien") == 2
    assert m.match("dark space thrillers") is None
    assert m.match("   ") is None


def test_chat_in_process(serving_ws):
    out = io.StringIO()
    summary = run_chat(serving_ws, io.StringIO("space story 1, Space Story 2\nquit\n"), out)
    text = out.getvalue()
    assert "Noted: Space Story 1, Space Story 2" in text
    lines = [x for x in text.splitlines() if x.lstrip()[:3].rstrip(". ").isdigit()]
    assert lines and lines[0].split(". ", 1)[1].startswith("Space Story"), text
    assert " — " in lines[0]
    assert summary == "chat: 1 turns, 2 liked titles"


def test_chat_through_a_pipe(serving_ws):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RECSYS_DEVICE": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-m", "recsys.app.cli", "--workspace", str(serving_ws.root), "chat"],
        input="a haunted house after midnight\nquit\n",
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    ranked = [x for x in proc.stdout.splitlines() if x.startswith(" 1. ")]
    assert ranked and ranked[0].startswith(" 1. Night Story"), proc.stdout
    assert "matches “a haunted house after midnight”" in proc.stdout
    assert "Bye." in proc.stdout
