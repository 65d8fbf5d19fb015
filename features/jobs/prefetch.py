"""Prepared batches ahead of the model: decoding runs in worker processes during the forward pass.

A media encoder's ``encode_batch`` is two halves: ``prepare`` (open, decode, validate, resize:
CPU, no model) and ``encode_prepared`` (the forward pass). ``prepared_batches`` runs the first
half of batch i+1, i+2... in worker processes while the job's process runs the second half of
batch i, keeping at most ``2 * workers`` batches in flight (bounded memory: a 64-poster batch
is ~10 MB of uint8 pixels).

Why ``concurrent.futures.ProcessPoolExecutor`` and not torch's ``DataLoader(num_workers=...)``:
the job already forms its batches (aligned to commit chunks), and each worker needs one encoder
built once (an initializer) and nothing else. The workers never import torch (posters and
frames are PIL + numpy up to uint8 pixels: ~60 MB, 0.7 s to start), whereas DataLoader's worker
loop imports torch in every worker (~650 MB, seconds; measured) and its Dataset / sampler /
collate layers would add nothing here. Spawned, not forked: the job's process holds torch's
OpenMP pool, LanceDB's Rust threads and maybe a CUDA context, none of which are safe to fork.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from features.encoders.base import Encoder, Prepared

MAX_WORKERS = 8  # past this, one driver feeding one model is the bottleneck, not decoding
# A worker costs ~1 CPU-second to start (an interpreter importing numpy, PIL, PyAV) and the
# first batch is prepared in the job's process meanwhile: with 2 batches, workers could hide
# the decoding of one batch only, less than they cost on a CPU-bound machine (measured).
MIN_BATCHES = 2

_worker_encoder: Encoder | None = None  # one per worker process, built by ``_init_worker``


def _init_worker(factory: Callable[[], Encoder]) -> None:
    global _worker_encoder
    # A job killed with SIGKILL cannot shut its pool down, and a worker waiting on the task
    # queue never notices (it holds both ends of that pipe): leave with the parent instead.
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    _worker_encoder = factory()  # models load lazily: ``prepare`` never touches them


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()  # returns once the job's process is gone
        os._exit(1)


def _prepare_in_worker(inputs: list[Any]) -> tuple[Prepared, float]:
    if _worker_encoder is None:
        raise RuntimeError("prepare worker used before its initializer ran")
    start = time.perf_counter()
    prepared = _worker_encoder.prepare(inputs)
    return prepared, time.perf_counter() - start


def encoder_device(encoder: Encoder) -> str:
    """The torch device the encoder's model runs on (the video encoder's is its frame encoder's)."""
    inner = getattr(encoder, "frame_encoder", encoder)
    return str(getattr(encoder, "device", None) or getattr(inner, "device", "cpu"))


def default_workers(encoder: Encoder, batches: int) -> int:
    """Worker processes for ``encoder``'s ``prepare`` when the config leaves it to the job.

    On CUDA the forward pass is off the CPU, so every core but the driver's decodes. On CPU a
    worker only helps on a core torch's intra-op threads leave free: where they use every core
    (the default), a decoding process preempts one of them and the others stall at its
    barriers, so the forward pass loses more than the decoding it hides (2 cores, 400
    trailers: the model's idle time fell from 19% to 6% of the job, its forward pass took 25%
    longer, the job 7% longer). None for ``MIN_BATCHES`` batches or fewer, or when ``prepare``
    is not worth a process (text).
    """
    if not encoder.prepare_in_workers or batches <= MIN_BATCHES:
        return 0
    cpus = len(os.sched_getaffinity(0))
    if encoder_device(encoder).startswith("cuda"):
        return max(1, min(MAX_WORKERS, cpus - 1, batches - 1))
    import torch  # loaded already: the model runs on it in this process

    return 1 if cpus > torch.get_num_threads() else 0  # one outruns a CPU forward pass


def prepared_batches(
    encoder: Encoder,
    factory: Callable[[], Encoder],
    inputs: Sequence[Any],
    batches: Sequence[list[int]],
    workers: int,
) -> Iterator[tuple[list[int], Prepared, float]]:
    """Yield ``(rows, encoder.prepare(inputs[rows]), prepare seconds)`` for each batch, in order.

    Args:
        encoder: Prepares in this process when ``workers`` is 0.
        factory: Builds each worker's own copy of the encoder (pickled to spawned workers).
        inputs: What the encoder takes (paths for media).
        batches: Row indices into ``inputs``, one list per batch.
        workers: Worker processes; 0 prepares each batch here, just before its forward pass.
    """
    if workers <= 0:
        for rows in batches:
            start = time.perf_counter()
            prepared = encoder.prepare([inputs[r] for r in rows])
            yield rows, prepared, time.perf_counter() - start
        return
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(factory,),
    )
    first, todo = batches[0] if batches else None, iter(batches[1:])
    pending: deque[tuple[list[int], Future[tuple[Prepared, float]]]] = deque()

    def submit() -> None:
        rows = next(todo, None)
        if rows is not None:
            pending.append((rows, pool.submit(_prepare_in_worker, [inputs[r] for r in rows])))

    try:
        for _ in range(2 * workers):  # one being prepared and one ready per worker
            submit()
        if first is not None:
            # The first batch is prepared here while the workers start (~1 s: a fresh
            # interpreter importing PIL, numpy, PyAV): the model gets its first batch sooner.
            start = time.perf_counter()
            prepared = encoder.prepare([inputs[r] for r in first])
            yield first, prepared, time.perf_counter() - start
        while pending:
            rows, future = pending.popleft()
            prepared, seconds = future.result()
            submit()  # before yielding: the workers keep decoding during this forward pass
            yield rows, prepared, seconds
    finally:
        # Also on an early exit (a crash mid-job, a closed generator): drop what is queued.
        pool.shutdown(wait=True, cancel_futures=True)
