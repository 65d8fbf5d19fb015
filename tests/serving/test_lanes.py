"""The ranking lane: at most ``threads`` ranking calls at once, the rest wait without one."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from serving.lanes import RankingLane


def test_no_more_than_threads_calls_run_at_once():
    lane, lock = RankingLane(threads=2), threading.Lock()
    running = peak = 0

    def work(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return i

    async def main():
        return await asyncio.gather(*(lane.run(lambda i=i: work(i)) for i in range(8)))

    assert asyncio.run(main()) == list(range(8))  # every call answered, in its own slot
    assert peak == 2


def test_a_lane_serves_several_event_loops():
    lane = RankingLane(threads=1)
    for _ in range(2):  # tests drive one app from several TestClient loops
        assert asyncio.run(lane.run(lambda: 7)) == 7


def test_a_lane_needs_a_thread():
    with pytest.raises(ValueError, match="threads >= 1"):
        RankingLane(threads=0)
