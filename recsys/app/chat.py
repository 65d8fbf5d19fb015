"""`recsys chat`: a line-based recommendation REPL over the same engine as the HTTP service.

Each line is either titles you liked (comma-separated, fuzzy-matched against the catalog) or a
free-text wish ("dark space thrillers with great visuals"); liked titles accumulate over the
session. Commands: ``reset`` forgets them, ``quit`` (or end of input) exits. Works from a pipe.
"""

from __future__ import annotations

import difflib
import re
from typing import TextIO

from recsys.core.workspace import Workspace

PROMPT = "> "
TOP_K = 8
HELP = (
    "Type titles you liked (comma-separated) or describe what you feel like; "
    "`reset` forgets your titles, `quit` exits."
)


class TitleMatcher:
    """Fuzzy title lookup: exact (case-insensitive), then close spelling, then substring."""

    def __init__(self, titles: list[str], item_ids: list[int]):
        self.by_key: dict[str, int] = {}
        for title, item_id in zip(titles, item_ids, strict=True):
            self.by_key.setdefault(_key(title), item_id)
        self.keys = list(self.by_key)

    def match(self, text: str) -> int | None:
        key = _key(text)
        if not key:
            return None
        if key in self.by_key:
            return self.by_key[key]
        close = difflib.get_close_matches(key, self.keys, n=1, cutoff=0.85)
        if close:
            return self.by_key[close[0]]
        if len(key) >= 4:
            contains = [k for k in self.keys if key in k]
            if len(contains) == 1:  # an unambiguous fragment ("matrix" -> "The Matrix")
                return self.by_key[contains[0]]
        return None


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def run_chat(ws: Workspace, stdin: TextIO, stdout: TextIO) -> str:
    """Run the REPL until ``quit`` or end of input; returns a one-line summary."""
    from serving.engine import EncoderPool, RecommendationEngine

    engine = RecommendationEngine.load(ws, EncoderPool())
    items = engine.snap.items
    matcher = TitleMatcher(items.titles, items.vocab.ids.tolist())
    liked: list[int] = []
    turns = 0
    _say(stdout, f"{engine.snap.catalog.summary()} — model {engine.model_version}")
    _say(stdout, HELP)
    interactive = _isatty(stdin)
    while True:
        if interactive:  # a pipe gets clean output, one result block per input line
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        line = line.strip()
        if line.lower() in {"quit", "exit", "q"}:
            break
        if not line:
            continue
        if line.lower() == "reset":
            liked.clear()
            _say(stdout, "Forgot your titles.")
            continue
        turns += 1
        parts = [p.strip() for p in re.split(r"[,;\n]", line) if p.strip()]
        matched = [(p, matcher.match(p)) for p in parts]
        found = [i for _, i in matched if i is not None]
        text = None if found and len(found) == len(parts) else line
        for item_id in found:
            if item_id not in liked:
                liked.append(item_id)
        if found:
            names = ", ".join(engine.title(engine.item_index(i)) for i in found)
            _say(stdout, f"Noted: {names}")
        result = engine.recommend(history=liked, text=text, k=TOP_K)
        for rec in result.items:
            _say(stdout, f"{rec.rank:2d}. {rec.title} — {rec.reason}")
    _say(stdout, "Bye.")
    return f"chat: {turns} turns, {len(liked)} liked titles"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _say(stdout: TextIO, text: str) -> None:
    stdout.write(text + "\n")
    stdout.flush()
