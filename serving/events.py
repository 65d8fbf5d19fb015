"""Interaction events posted to the API: the durable, rotated log, its replay at load and
its tail (events another server worker accepted reach this worker's sessions).

Log format (what `recsys train` reads): one JSON object per line in
``<workspace>/events/events-YYYY-MM-DD.jsonl`` (UTC day of arrival), with the canonical
interaction columns ``user_id, item_id, timestamp (ISO 8601, UTC), kind, rating,
review_text, watch_fraction`` (see recsys.core.schemas.INTERACTIONS_SCHEMA) plus
``received_at``: when the API accepted it. Training ignores that column; the replay at load
uses it, because ``timestamp`` is the client's event time and may be back-dated.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from serving.sessions import SessionStore

log = logging.getLogger(__name__)

RETENTION_DAYS = 90  # log files older than this are deleted; retrain well within it
PREFIX, SUFFIX = "events-", ".jsonl"


@dataclass(frozen=True)
class LoggedEvent:
    """What the replay needs of one log line."""

    user_id: int
    item_id: int
    rating: float | None
    watch_fraction: float | None
    received_at: datetime


class EventLog:
    """Appends events as JSON lines, one file per UTC day, fsync'd before the request returns.

    Args:
        directory: ``<workspace>/events``.
        retention_days: Files of days older than this are deleted when a new day's file is
            started; None keeps everything.
    """

    def __init__(self, directory: Path, retention_days: int | None = RETENTION_DAYS) -> None:
        self.directory = directory
        self.retention_days = retention_days
        self._lock = threading.Lock()
        # per file, the bytes already turned into events by ``read``/``follow`` (whole lines)
        self._offsets: dict[Path, int] = {}
        self._read_lock = threading.Lock()  # a reload's replay and the watcher's follow

    def path_for(self, now: datetime) -> Path:
        return self.directory / f"{PREFIX}{now:%Y-%m-%d}{SUFFIX}"

    def append(self, rows: list[dict], now: datetime | None = None) -> Path:
        now = now or datetime.now(UTC)
        path = self.path_for(now)
        received = {"received_at": now.astimezone(UTC).isoformat()}
        payload = "".join(json.dumps({**r, **received}, default=_iso) + "\n" for r in rows)
        with self._lock:
            if not self.directory.is_dir():
                self.directory.mkdir(parents=True, exist_ok=True)
                _fsync_dir(self.directory.parent)
            with open(path, "a+b") as fh:
                # other server workers append to the same file: one writer at a time, so the
                # torn-tail check below never sees another's record half-written
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                size = os.fstat(fh.fileno()).st_size
                # a crash mid-write leaves a torn last line: end it, or this record joins it
                if size and os.pread(fh.fileno(), 1, size - 1) != b"\n":
                    payload = "\n" + payload
                fh.write(payload.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            if not size:  # a new file: its name is durable only once the directory is synced
                _fsync_dir(self.directory)
                self._prune(now.date())
        return path

    def files(self) -> Iterator[tuple[date, Path]]:
        """(day, path) of every log file, oldest first; names that are not a day are skipped."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob(f"{PREFIX}*{SUFFIX}")):
            try:
                day = date.fromisoformat(path.name[len(PREFIX) : -len(SUFFIX)])
            except ValueError:
                continue
            yield day, path

    def prune(self, today: date | None = None) -> list[Path]:
        """Delete files older than ``retention_days``; returns what was deleted."""
        with self._lock:
            return self._prune(today or datetime.now(UTC).date())

    def _prune(self, today: date) -> list[Path]:
        if not self.retention_days:
            return []
        oldest = today - timedelta(days=self.retention_days)
        gone = [path for day, path in self.files() if day < oldest]
        for path in gone:
            path.unlink(missing_ok=True)
        if gone:
            log.info("event log: deleted %d file(s) older than %s", len(gone), oldest)
        return gone

    def read(self, since: datetime | None = None) -> tuple[list[LoggedEvent], int]:
        """Events received at or after ``since`` (all when None) in arrival order, and how many
        lines could not be read (a torn line from a crash is skipped, never fatal)."""
        with self._read_lock:
            return self._read(since)

    def _read(self, since: datetime | None) -> tuple[list[LoggedEvent], int]:
        events, bad = [], 0
        for day, path in self.files():
            if since is not None and day < since.astimezone(UTC).date():
                self._offsets[path] = path.stat().st_size  # the whole day is before the cut-off
                continue
            found, unreadable = self._read_from(path, 0)
            events += [e for e in found if since is None or e.received_at >= since]
            bad += unreadable
        return events, bad

    def follow(self) -> tuple[list[LoggedEvent], int]:
        """Events appended since the last ``read``/``follow``, by this process or another
        (server workers share the log), in arrival order; and the unreadable lines among them.
        A line still being written is left for the next call."""
        with self._read_lock:
            return self._follow()

    def _follow(self) -> tuple[list[LoggedEvent], int]:
        events, bad = [], 0
        present = set()
        for _, path in self.files():
            present.add(path)
            found, unreadable = self._read_from(path, self._offsets.get(path, 0))
            events += found
            bad += unreadable
        for gone in set(self._offsets) - present:  # pruned files
            del self._offsets[gone]
        return events, bad

    def _read_from(self, path: Path, offset: int) -> tuple[list[LoggedEvent], int]:
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                chunk = fh.read()
        except FileNotFoundError:  # pruned meanwhile
            return [], 0
        whole = chunk.rfind(b"\n") + 1
        self._offsets[path] = offset + whole
        events, bad = [], 0
        for raw in chunk[:whole].splitlines():
            if not raw.strip():
                continue
            event = _parse(raw)
            if event is None:
                bad += 1
            else:
                events.append(event)
        return events, bad


def replay(events: EventLog, sessions: SessionStore, since: datetime | None) -> tuple[int, int]:
    """Feed logged events since ``since`` into ``sessions``; (replayed, unreadable lines)."""
    found, bad = events.read(since)
    feed(sessions, found)
    return len(found), bad


def feed(sessions: SessionStore, events: list[LoggedEvent]) -> None:
    """Into ``sessions``, in log order (an event this process already added moves nowhere
    new: sessions are ordered sets and the log is in arrival order)."""
    for e in events:
        sessions.add(e.user_id, e.item_id, e.rating, e.watch_fraction)


def _parse(raw: bytes) -> LoggedEvent | None:
    try:
        row = json.loads(raw)
        if not isinstance(row, dict):
            return None
        user, item = row["user_id"], row["item_id"]
        if not (type(user) is int and type(item) is int):  # bool is an int: refuse it too
            return None
        # lines written before ``received_at`` existed: their event time is the best we have
        stamp = datetime.fromisoformat(row.get("received_at") or row["timestamp"])
        return LoggedEvent(
            user,
            item,
            _number(row.get("rating")),
            _number(row.get("watch_fraction")),
            stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC),
        )
    except (ValueError, KeyError, TypeError):
        return None


def _number(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return float(value)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _iso(value):
    if isinstance(value, datetime):  # naive timestamps are taken as UTC, like the catalog's
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
