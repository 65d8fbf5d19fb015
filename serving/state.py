"""Service state: the current engine behind one reference, swapped atomically on reload.

A load that fails swaps nothing in: the previous engine (if any) keeps serving, and the watcher
retries the same target with backoff, because most failures heal by themselves (`preprocess`
swapping data/, a store briefly unreachable, a run still being copied).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from recsys.core.runs import Run
from serving.answers import attach_answers
from serving.engine import EncoderPool, RecommendationEngine
from serving.engine.models import IncompleteRunError
from serving.engine.vectors import IncompleteStoreError, StoreUnavailableError, require_modalities
from serving.events import EventLog, feed, replay
from serving.metrics import Metrics
from serving.response_cache import ResponseCache
from serving.sessions import SessionStore
from serving.settings import Settings

# Raised inside a failed load and kept in ``ServiceState.failure``; re-exported for the routes.
__all__ = [
    "Backoff",
    "IncompleteRunError",
    "IncompleteStoreError",
    "LoadFailure",
    "ServiceState",
    "StoreUnavailableError",
]

log = logging.getLogger(__name__)

EVENTS_CUTOFF = "events_cutoff"  # run manifest key: when training read the event log (ISO)
_PATH = re.compile(
    r"(?<![\w/.])(?:[A-Za-z][\w+.-]*:/)?/[^\s'\"`,:;()\[\]]+"
)  # /abs/path, s3://bucket/key


@dataclass(frozen=True)
class Backoff:
    """Seconds before retry ``attempt`` (1, 2, …): ``first`` doubling up to ``cap``."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int) -> float:
        return min(self.first * 2.0 ** (attempt - 1), self.cap)


@dataclass(frozen=True)
class LoadFailure:
    """The last failed load: what it tried, how often in a row, when to try again."""

    target: Run | None
    attempts: int
    retry_at: float  # time.monotonic()
    error: Exception
    message: str  # one short line without filesystem paths (what /ready shows)


def freeze_heap() -> None:
    """Keep the installed engine's objects out of the cyclic garbage collector's full passes.

    A snapshot holds ~600k container objects at 100k items (histories, titles, vocabularies),
    and a full collection walks every one: 280 ms with the GIL held, measured — the p99 of
    cached answers at 16 connections was that pause. Frozen objects are skipped by every
    later collection (still freed by reference counting). Unfrozen and collected first, so
    the previous engine's reference cycles are freed now, once per load, not leaked.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ServiceState:
    """Holds the engine; a reload builds a whole new engine first, then swaps the reference.

    Requests read ``engine`` once and keep that object, so a request that started before a
    swap finishes on the old snapshot; nothing is mutated in place.
    """

    def __init__(self, settings: Settings, metrics: Metrics, encoders: EncoderPool | None = None):
        self.settings = settings
        self.ws = settings.open_workspace()
        self.metrics = metrics
        self.encoders = encoders or EncoderPool(
            settings.text_encoder, settings.clip_checkpoint, settings.device
        )
        self.sessions = SessionStore(settings.session_max_users, settings.session_max_items)
        self.events = EventLog(self.ws.events_dir, settings.event_retention_days)
        self.responses = ResponseCache(settings.response_cache_mb * 2**20, metrics)
        self.engine: RecommendationEngine | None = None
        self.failure: LoadFailure | None = None
        self.backoff = Backoff()
        self.started = time.time()
        self._reload_lock = threading.Lock()
        self._replayed = False  # sessions hold the logged events once any engine has loaded

    @property
    def load_error(self) -> str | None:
        return self.failure.message if self.failure else None

    def install(self, engine: RecommendationEngine) -> None:
        # versions first: an engine whose versions cannot be published never goes live
        self.metrics.set_versions(engine.model_version, engine.index_version)
        self.engine = engine  # one reference assignment: atomic for readers
        self.responses.replace_engine(engine)  # the previous engine's answers are dropped
        self.failure = None
        self.metrics.load_failing.set(0)
        freeze_heap()

    def reload(self, run: Run | None = None) -> RecommendationEngine | None:
        """Build a new engine from ``run`` (default: the served run) and swap it in.

        Returns:
            The new engine, or None when loading failed: the error is logged and kept in
            ``failure`` (``load_error`` is its short message), and the previous engine (if
            any) keeps serving. The exception is one of ``IncompleteRunError``,
            ``IncompleteStoreError``, ``StoreUnavailableError`` or whatever else broke.
        """
        with self._reload_lock:  # one build at a time; readers are never blocked
            return self._reload(run)

    def _reload(self, run: Run | None) -> RecommendationEngine | None:
        start = time.perf_counter()
        try:
            engine = RecommendationEngine.load(self.ws, self.encoders, run, self.engine)
            require_modalities(engine.snap.modalities, engine.snap.models.pipeline.modalities)
            stored = attach_answers(engine)
            if not self._replayed:
                self._replay(engine)
        except Exception as exc:  # the reload boundary: any broken run keeps the old engine
            self._failed(run or self.current_target(), exc)
            return None
        self.install(engine)
        self.metrics.reloads.labels(result="ok").inc()
        log.info(
            "engine %s ready in %.1fs (%d precomputed answers)",
            engine.model_version,
            time.perf_counter() - start,
            stored,
        )
        return engine

    def _replay(self, engine: RecommendationEngine) -> None:
        """Sessions get the logged events the run was not trained on, so a restart loses none.

        Without a recorded cut-off every retained event is replayed: one the run already saw
        changes nothing (the pipeline merges histories as sets).
        """
        since = events_cutoff(engine.snap.models.manifest)
        n, bad = replay(self.events, self.sessions, since)
        self.events.prune()
        self._replayed = True
        self.metrics.events_replayed.inc(n)
        self.metrics.event_lines_unreadable.inc(bad)
        shown = since.isoformat() if since else "the start of the log"
        log.info("replayed %d logged events since %s (%d unreadable lines)", n, shown, bad)

    def _failed(self, target: Run | None, exc: Exception) -> None:
        previous = self.failure
        attempts = previous.attempts + 1 if previous and previous.target == target else 1
        delay = self.backoff.delay(attempts)
        message = short_reason(exc)
        self.failure = LoadFailure(target, attempts, time.monotonic() + delay, exc, message)
        self.metrics.reloads.labels(result="error").inc()
        self.metrics.load_failing.set(1)
        expected = (FileNotFoundError, IncompleteRunError, IncompleteStoreError)
        log.error(
            "loading %s failed (attempt %d, next in %.0fs), still serving %s: %s: %s",
            target.name if target else "the served run",
            attempts,
            delay,
            self.engine.snap.run.name if self.engine else "nothing",
            type(exc).__name__,
            exc,
            exc_info=attempts == 1 and not isinstance(exc, expected),  # one trace, not one a min
        )

    def current_target(self) -> Run | None:
        """The run serving should be on now (None before anything is trained)."""
        try:
            return Run.served(self.ws.artifacts_dir)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # an unreadable LATEST/current: keep polling
            log.warning("cannot resolve the served run in %s: %s", self.ws.artifacts_dir, exc)
            return None

    def reload_if_changed(self) -> None:
        """Load the target when it is not the one served, or retry a failed one when due."""
        if not self._reload_lock.acquire(blocking=False):
            return  # a load is under way (start-up, /admin/reload): look again next tick
        try:
            target = self.current_target()
            if target is None:
                return
            failure = self.failure
            if failure is not None and failure.target != target:
                self.failure = failure = None  # that target is not current any more
            served = self.engine.snap.run if self.engine else None
            moved = failure is None and target != served
            due = failure is not None and time.monotonic() >= failure.retry_at
            if moved or due:
                self._reload(target)
        finally:
            self._reload_lock.release()

    def follow_events(self) -> None:
        """Events other server workers accepted since the last look join this one's sessions
        (with ``recsys serve --workers N`` a user's next request may reach any worker)."""
        if not self._replayed:
            return  # the first load replays the log, then following starts
        found, bad = self.events.follow()
        feed(self.sessions, found)
        self.metrics.event_lines_unreadable.inc(bad)

    async def watch(self) -> None:
        """Poll the resolved target of artifacts/current; (re)load when it changes or is due;
        then take in the events other workers logged meanwhile.

        ``reload_poll_seconds=0`` turns off polling, retries and following alike
        (/admin/reload remains).
        """
        interval = self.settings.reload_poll_seconds
        while interval > 0:
            await asyncio.sleep(interval)
            await asyncio.to_thread(self.reload_if_changed)
            await asyncio.to_thread(self.follow_events)


def events_cutoff(manifest: dict) -> datetime | None:
    """When the run's training read the event log (None when the run does not say)."""
    value = manifest.get(EVENTS_CUTOFF)
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        log.warning(
            "manifest %s %r is not a timestamp: replaying every event", EVENTS_CUTOFF, value
        )
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def short_reason(exc: BaseException, limit: int = 200) -> str:
    """``Type: first line`` with each path cut to its last part: for clients, not operators."""
    lines = str(exc).strip().splitlines()
    text = _PATH.sub(_last_part, lines[0]) if lines else ""
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _last_part(match: re.Match) -> str:
    path = match.group()
    kept = path.rstrip(".")  # a sentence's full stop is not part of the path
    return Path(kept).name + path[len(kept) :]
