"""Service state: the current engine behind one reference, swapped atomically on reload."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from recsys.core.runs import Run
from serving.engine import EncoderPool, RecommendationEngine
from serving.events import EventLog, SessionStore
from serving.metrics import Metrics
from serving.settings import Settings

log = logging.getLogger(__name__)


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
        self.sessions = SessionStore()
        self.events = EventLog(self.ws.events_dir)
        self.engine: RecommendationEngine | None = None
        self.load_error: str | None = None
        self.started = time.time()
        self._reload_lock = threading.Lock()
        self._failed_target: Run | None = None  # not retried until the served run changes

    def install(self, engine: RecommendationEngine) -> None:
        self.engine = engine  # one reference assignment: atomic for readers
        self.load_error = None
        self.metrics.set_versions(engine.model_version, engine.index_version)

    def reload(self, run: Run | None = None) -> RecommendationEngine | None:
        """Build a new engine from ``run`` (default: the served run) and swap it in.

        Returns:
            The new engine, or None when loading failed: the error is logged and kept in
            ``load_error`` and the previous engine (if any) keeps serving.
        """
        with self._reload_lock:  # one build at a time; readers are never blocked
            start = time.perf_counter()
            served = self.engine.snap.run.name if self.engine else "nothing"
            try:
                engine = RecommendationEngine.load(self.ws, self.encoders, run, self.engine)
            except Exception as exc:  # the reload boundary: any broken run keeps the old engine
                self.load_error = f"{type(exc).__name__}: {exc}"
                self._failed_target = run or self.current_target()
                self.metrics.reloads.labels(result="error").inc()
                log.error(
                    "loading %s failed, still serving %s: %s",
                    run.name if run else "the served run",
                    served,
                    self.load_error,
                    exc_info=not isinstance(exc, FileNotFoundError),  # not trained yet: no trace
                )
                return None
            self.install(engine)
            self._failed_target = None
            self.metrics.reloads.labels(result="ok").inc()
            log.info("engine %s ready in %.1fs", engine.model_version, time.perf_counter() - start)
            return engine

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
        """Reload when the served run moved to one not already loaded or failed."""
        target = self.current_target()
        served = self.engine.snap.run if self.engine else None
        if target is not None and target not in (served, self._failed_target):
            self.reload(target)

    async def watch(self) -> None:
        """Poll the resolved target of artifacts/current; reload when it changes."""
        interval = self.settings.reload_poll_seconds
        while interval > 0:
            await asyncio.sleep(interval)
            await asyncio.to_thread(self.reload_if_changed)
