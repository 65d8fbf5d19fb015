"""Ranking calls on a few threads of their own; beyond that they wait as coroutines.

Why: sync handlers share Starlette's limiter of 40 threads. With 16 connections, 16 ranking
calls ran at once on 2 cores, each holding the GIL in short slices between numpy and XGBoost
calls, so all of them slowed together: throughput fell below one connection's (19 vs 24
req/s at 10k items, `python -m eval.benchmarks serving`). A limiter of about the core count
lets each call run at full speed while the others wait on the event loop, which costs
nothing; ``/health`` and ``/ready`` never wait behind them (async, no thread).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request

T = TypeVar("T")

DEFAULT_RANK_THREADS = max(1, os.cpu_count() or 1)  # one ranking call per core at a time


class RankingLane:
    """``await lane.run(fn)``: ``fn()`` on one of ``threads`` threads (queued beyond that)."""

    def __init__(self, threads: int = DEFAULT_RANK_THREADS):
        if threads < 1:
            raise ValueError(f"need threads >= 1, got {threads}")
        self.threads = threads
        # one limiter per event loop: a server has one; tests drive one app from several
        self._limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def run(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(fn, limiter=limiter)


async def get_lane(request: Request) -> RankingLane:
    return request.app.state.ranking_lane


RankingLaneDep = Annotated[RankingLane, Depends(get_lane)]
