"""A bounded pool for CPU-heavy request work (encoders, image decoding), off the event loop.

Why a pool of its own: Starlette runs sync handlers and ``run_in_threadpool`` on one shared
limiter of 40 threads, and ``/health`` and ``/ready`` are sync handlers. Encoder calls parked on
those threads would make the probes queue behind them. Heavy work runs here instead, on a few
dedicated threads (more would only contend for the same cores: torch already spreads one
forward over all of them), and a request that would wait behind more than ``max_waiting``
others is refused at once with 503 + ``Retry-After`` rather than queued for minutes.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status

T = TypeVar("T")

# Half the cores, at most 4: one torch forward already spreads over every core, so more workers
# mostly contend with each other and with the event loop that answers probes.
DEFAULT_WORKERS = max(1, min(4, (os.cpu_count() or 2) // 2))
DEFAULT_MAX_WAITING = 8  # a client retrying after 1 s beats one queued behind 8+ big batches
RETRY_AFTER_SECONDS = 1


class PoolSaturated(RuntimeError):
    """Every worker is busy and the queue is full; the message says how full."""


class HeavyPool:
    """``await pool.run(fn, *args)``: ``fn`` runs on one of ``workers`` threads.

    Args:
        workers: Threads running heavy calls at once.
        max_waiting: Calls allowed to queue for a thread; one more raises ``PoolSaturated``.
    """

    def __init__(self, workers: int = DEFAULT_WORKERS, max_waiting: int = DEFAULT_MAX_WAITING):
        if workers < 1 or max_waiting < 0:
            raise ValueError(f"need workers >= 1, max_waiting >= 0; got {workers}, {max_waiting}")
        self.workers = workers
        self.max_waiting = max_waiting
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="heavy")
        self._lock = threading.Lock()  # apps on several event loops (tests) may share a pool
        self._pending = 0  # running + queued

    @property
    def pending(self) -> int:
        return self._pending

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the pool and await its result (or its exception)."""
        with self._lock:
            if self._pending >= self.workers + self.max_waiting:
                raise PoolSaturated(
                    f"server busy: {self.workers} heavy requests running and "
                    f"{self._pending - self.workers} waiting; retry in {RETRY_AFTER_SECONDS} s"
                )
            self._pending += 1
        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            self._release(None)
            raise
        # The slot frees when the work ends, not when the request does: cancelling the awaiting
        # task cancels a call still queued (wrap_future propagates it), but a running one keeps
        # its thread until it returns.
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _: Future | None) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_DEFAULT = HeavyPool()  # threads start on first use; one pool per process


async def get_heavy(request: Request) -> HeavyPool:
    """The app's pool (``app.state.heavy`` when the factory set one), else the process's."""
    pool = getattr(request.app.state, "heavy", None)
    return pool if isinstance(pool, HeavyPool) else _DEFAULT


def overloaded(exc: PoolSaturated, detail: Any = None) -> HTTPException:
    """The 503 a saturated pool answers with (``detail`` defaults to the pool's message)."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        str(exc) if detail is None else detail,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


HeavyDep = Annotated[HeavyPool, Depends(get_heavy)]
