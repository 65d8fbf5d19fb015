"""Service state: the current engine behind one reference, swapped atomically on reload."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

from recsys.core.workspace import Workspace
from serving.engine import EncoderPool, RecommendationEngine
from serving.engine.snapshot import resolve_run
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
        self.ws = Workspace.at(settings.workspace)
        self.metrics = metrics
        self.encoders = encoders or EncoderPool(
            settings.text_encoder, settings.clip_checkpoint, settings.device
        )
        self.sessions = SessionStore()
        self.events = EventLog(self.ws.root / "events")
        self.engine: RecommendationEngine | None = None
        self.load_error: str | None = None
        self.started = time.time()
        self._reload_lock = threading.Lock()
        self._failed_target: Path | None = None

    def install(self, engine: RecommendationEngine) -> None:
        self.engine = engine  # one reference assignment: atomic for readers
        self.load_error = None
        self.metrics.set_versions(engine.model_version, engine.index_version)

    def reload(self, run_dir: Path | None = None) -> RecommendationEngine:
        """Build a new engine from ``run_dir`` (default: current) and swap it in."""
        with self._reload_lock:  # one build at a time; readers are never blocked
            start = time.perf_counter()
            try:
                engine = RecommendationEngine.load(self.ws, self.encoders, run_dir, self.engine)
            except Exception as exc:
                self.load_error = f"{type(exc).__name__}: {exc}"
                self.metrics.reloads.labels(result="error").inc()
                raise
            self.install(engine)
            self.metrics.reloads.labels(result="ok").inc()
            log.info("engine %s ready in %.1fs", engine.model_version, time.perf_counter() - start)
            return engine

    def current_target(self) -> Path | None:
        try:
            return resolve_run(self.ws)
        except FileNotFoundError:
            return None

    async def watch(self) -> None:
        """Poll the resolved target of artifacts/current; reload when it changes."""
        interval = self.settings.reload_poll_seconds
        while interval > 0:
            await asyncio.sleep(interval)
            try:
                await self._check_once()
            except Exception:  # the watcher must outlive any one bad poll
                log.exception("artifact watcher poll failed")

    async def _check_once(self) -> None:
        target = self.current_target()
        served = self.engine.snap.run_dir if self.engine else None
        if target is None or target == served or target == self._failed_target:
            return
        try:
            await asyncio.to_thread(self.reload, target)
            self._failed_target = None
        except Exception as exc:  # keep serving the old snapshot; retry when it changes
            self._failed_target = target
            log.error("hot reload of %s failed, still serving %s: %s", target, served, exc)
