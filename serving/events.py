"""Interaction events posted to the API: in-memory session history + an append-only log.

Log format (what `recsys train --update` reads): one JSON object per line in
``<workspace>/events/events-YYYY-MM-DD.jsonl`` (UTC day of arrival), with the canonical
interaction columns ``user_id, item_id, timestamp (ISO 8601, UTC), kind, rating,
review_text, watch_fraction`` (see recsys.core.schemas.INTERACTIONS_SCHEMA).
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from recsys.core.interactions import is_like

SESSION_LIMIT = 500  # newest events kept per user in memory


class SessionStore:
    """Per-user items from events since start-up; survives engine hot swaps."""

    def __init__(self) -> None:
        self._liked: dict[int, list[int]] = defaultdict(list)
        self._seen: dict[int, list[int]] = defaultdict(list)
        self._lock = threading.Lock()

    def add(
        self, user_id: int, item_id: int, rating: float | None, watch_fraction: float | None
    ) -> None:
        """Record one accepted event: always seen; liked by the training rule (``is_like``)."""
        with self._lock:
            self._seen[user_id] = (self._seen[user_id] + [item_id])[-SESSION_LIMIT:]
            if is_like(rating, watch_fraction):  # an abandoned unrated view is not a like
                self._liked[user_id] = (self._liked[user_id] + [item_id])[-SESSION_LIMIT:]

    def liked(self, user_id: int) -> list[int]:
        with self._lock:
            return list(self._liked.get(user_id, ()))

    def seen(self, user_id: int) -> list[int]:
        with self._lock:
            return list(self._seen.get(user_id, ()))


class EventLog:
    """Appends events as JSON lines; one file per UTC day; fsync'd before the request returns."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def path_for(self, now: datetime) -> Path:
        return self.directory / f"events-{now:%Y-%m-%d}.jsonl"

    def append(self, rows: list[dict]) -> Path:
        now = datetime.now(UTC)
        path = self.path_for(now)
        lines = "".join(json.dumps(r, default=_iso) + "\n" for r in rows)
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(lines)
                fh.flush()
                os.fsync(fh.fileno())
        return path


def _iso(value):
    if isinstance(value, datetime):  # naive timestamps are taken as UTC, like the catalog's
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
