"""Recommendation answers kept per engine: a repeated request is answered without ranking.

A known user's home page is asked for again and again (each visit, each refresh) while
nothing it depends on changes, and ranking it costs ~20 ms at 100k items against ~0.1 ms
for the HTTP floor. The pipeline is deterministic, so an answer is a pure function of the
engine (one snapshot: run, indexes, catalog histories) and of the request as ranked (the
user, their live likes/views, the text, k and the rules). Both are the key, so nothing is
ever served that the pipeline would not answer now:

- a new event for the user changes their live likes/views, hence the key;
- a reload installs a new engine, and every answer of the old one is dropped (an answer
  ranked by the old engine and finished after the swap is not stored);
- ``Cache-Control: no-cache`` on a request asks for a freshly ranked answer (RFC 9111),
  which then replaces the kept one; the serving benchmark measures ranking with it.

Bounded by the bytes of the kept JSON bodies, least recently used dropped first. One per
worker process: answers are small, and sharing them would need a store round trip. Known
users' common requests need neither: they are ranked before the run is published and read
from its files by every worker (``engine.answer_store``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from serving.metrics import Metrics


class ResponseCache:
    """JSON bodies by request key, valid for the installed engine only, at most ``max_bytes``."""

    def __init__(self, max_bytes: int, metrics: Metrics | None = None):
        self.max_bytes = max_bytes
        self.metrics = metrics
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._engine: object | None = None
        # the routes touch it from the event loop, reloads from the watcher's thread
        self._lock = threading.Lock()

    def replace_engine(self, engine: object) -> None:
        """``engine`` serves from now on: drop every answer of the previous one."""
        with self._lock:
            self._engine = engine
            self._bodies.clear()
            self._set_bytes(0)

    def get(self, engine: object, key: Hashable) -> bytes | None:
        """The kept body of ``key``, or None: not kept, or ``engine`` is not the installed one
        (a request that started before a swap ranks on its own engine)."""
        with self._lock:
            body = self._bodies.get(key) if engine is self._engine else None
            if body is not None:
                self._bodies.move_to_end(key)
        return body

    def put(self, engine: object, key: Hashable, body: bytes) -> None:
        """Keep ``body`` ranked by ``engine``, unless that engine has been replaced meanwhile."""
        if self.max_bytes <= 0 or len(body) > self.max_bytes:
            return  # the cache is off, or this answer alone would not fit
        with self._lock:
            if engine is not self._engine:
                return
            old = self._bodies.pop(key, None)
            size = self._bytes + len(body) - (len(old) if old is not None else 0)
            self._bodies[key] = body
            while size > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                size -= len(dropped)
            self._set_bytes(size)

    def __len__(self) -> int:
        return len(self._bodies)

    def _set_bytes(self, size: int) -> None:
        self._bytes = size
        if self.metrics:
            self.metrics.response_cache_bytes.set(size)
