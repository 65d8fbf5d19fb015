"""Where encoding runs: in this process, or on Ray Data. Both yield the same committed chunks.

An engine only turns inputs into vectors; the runner (one writer, in the driver) commits each
chunk to the store, so local and Ray runs produce identical tables.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from features.encoders.base import Encoder
from features.jobs.prefetch import default_workers, prepared_batches


@dataclass
class Chunk:
    """Result for positions ``rows`` of the todo list: ``vectors[j]`` belongs to ``ok[j]``.

    ``seconds`` (local engine): where this chunk's time went (``prepare``: decoding, in workers
    or here; ``wait``: the model idle, waiting for prepared batches; ``forward``: the model).
    """

    rows: list[int]
    ok: list[int]
    vectors: np.ndarray
    errors: dict[int, str] = field(default_factory=dict)
    nodes: dict[str, int] = field(default_factory=dict)  # Ray node id -> rows it encoded
    seconds: dict[str, float] = field(default_factory=dict)


class Engine(ABC):
    name: str

    @abstractmethod
    def run(
        self,
        encoder: Encoder,
        factory: Callable[[], Encoder],
        inputs: Sequence[Any],
        batch_size: int,
        chunk_size: int,
    ) -> Iterator[Chunk]:
        """Encode ``inputs`` and yield chunks of at most ``chunk_size`` positions, in order."""


def encode_rows(encoder: Encoder, inputs: Sequence[Any], rows: list[int], batch_size: int) -> Chunk:
    """Encode ``inputs[rows]`` batch by batch; failures become per-row errors, never raise."""
    ok: list[int] = []
    parts: list[np.ndarray] = []
    errors: dict[int, str] = {}
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        result = encoder.encode_batch([inputs[r] for r in batch])
        ok.extend(batch[j] for j in result.ok)
        parts.append(np.asarray(result.vectors, np.float32))
        errors.update({batch[j]: reason for j, reason in result.errors.items()})
    vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)
    return Chunk(list(rows), ok, vectors, errors)


def chunk_rows(n: int, chunk_size: int) -> list[list[int]]:
    return [list(range(s, min(s + chunk_size, n))) for s in range(0, n, chunk_size)]


class LocalEngine(Engine):
    """This process runs the model; media decoding runs ahead in worker processes.

    Batches are cut inside each chunk (as ``encode_rows`` does), so vectors do not depend on
    ``workers``; the prefetch runs across chunk boundaries, so the workers keep decoding while
    the runner commits a chunk.

    Args:
        workers: Processes preparing batches (decode + resize); None = ``default_workers``
            (by the encoder's device and the job's size), 0 = prepare in this process, before
            each forward pass. Encoders without ``prepare_in_workers`` (text) never use any.
    """

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers

    def run(self, encoder, factory, inputs, batch_size, chunk_size):
        chunks = chunk_rows(len(inputs), chunk_size)
        batches = [c[i : i + batch_size] for c in chunks for i in range(0, len(c), batch_size)]
        workers = default_workers(encoder, len(batches))
        if encoder.prepare_in_workers and self.workers is not None:
            workers = self.workers  # configured; text never has anything to decode
        stream = prepared_batches(encoder, factory, inputs, batches, workers)
        try:
            for rows in chunks:
                yield self._chunk(encoder, stream, rows)
        finally:
            stream.close()  # stops the workers now, also when the runner stops early

    @staticmethod
    def _chunk(encoder: Encoder, stream: Iterator, rows: list[int]) -> Chunk:
        ok: list[int] = []
        parts: list[np.ndarray] = []
        errors: dict[int, str] = {}
        seconds = {"prepare": 0.0, "wait": 0.0, "forward": 0.0}
        done = 0
        while done < len(rows):
            start = time.perf_counter()
            batch, prepared, prepare_s = next(stream)  # blocks only if the workers fell behind
            mid = time.perf_counter()
            result = encoder.encode_prepared(prepared)
            seconds["forward"] += time.perf_counter() - mid
            seconds["wait"] += mid - start
            seconds["prepare"] += prepare_s
            ok.extend(batch[j] for j in result.ok)
            parts.append(np.asarray(result.vectors, np.float32))
            errors.update({batch[j]: reason for j, reason in result.errors.items()})
            done += len(batch)
        vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)
        return Chunk(rows, ok, vectors, errors, seconds=seconds)


class _RayEncode:
    """Ray Data actor: builds its encoder once, then encodes batches of (row, input)."""

    def __init__(self, factory: Callable[[], Encoder]):
        import ray  # this actor runs inside Ray

        self.encoder = factory()
        self.node = ray.get_runtime_context().get_node_id()  # reported back with each row

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [int(r) for r in batch["row"]]
        inputs = list(batch["input"])
        chunk = encode_rows(self.encoder, inputs, list(range(len(rows))), len(rows))
        vectors = np.zeros((len(rows), self.encoder.dim), np.float32)  # (B, dim); 0 = failed
        vectors[chunk.ok] = chunk.vectors
        errors = [chunk.errors.get(j, "") for j in range(len(rows))]
        ok = np.zeros(len(rows), bool)
        ok[chunk.ok] = True
        return {
            "row": np.array(rows),
            "ok": ok,
            "vector": vectors,
            "error": np.array(errors),
            "node": np.array([self.node] * len(rows)),
        }


class RayEngine(Engine):
    """Ray Data on a local cluster (or the one ``RAY_ADDRESS`` points at).

    ``actors`` encoder actors (one model copy each, one CPU each) share the batches; on a
    cluster Ray places them on whichever nodes have a free CPU.
    """

    name = "ray"

    def __init__(self, actors: int = 1):
        if actors < 1:
            raise ValueError(f"Ray engine needs at least one actor, got {actors}")
        self.actors = actors

    def run(self, encoder, factory, inputs, batch_size, chunk_size):
        try:
            import ray
        except ImportError as exc:
            raise ImportError('--engine ray needs Ray Data: pip install "ray[data]"') from exc
        if not ray.is_initialized():
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # chunks come back in todo order
        ctx.enable_progress_bars = False  # the runner's tqdm bar is the one progress bar
        items = [{"row": i, "input": str(x)} for i, x in enumerate(inputs)]
        ds = ray.data.from_items(items).map_batches(
            _RayEncode,
            fn_constructor_kwargs={"factory": factory},
            batch_size=batch_size,
            concurrency=self.actors,
            batch_format="numpy",
        )
        for batch in ds.iter_batches(batch_size=chunk_size, batch_format="numpy"):
            rows = [int(r) for r in batch["row"]]
            ok_mask = np.asarray(batch["ok"], bool)
            ok = [r for r, good in zip(rows, ok_mask, strict=True) if good]
            errors = {
                r: str(e)
                for r, e, good in zip(rows, batch["error"], ok_mask, strict=True)
                if not good
            }
            vectors = np.asarray(batch["vector"], np.float32)[ok_mask]
            nodes = Counter(str(n) for n in batch["node"])
            yield Chunk(rows, ok, vectors, errors, dict(nodes))


ENGINES: dict[str, type[Engine]] = {"local": LocalEngine, "ray": RayEngine}


def create_engine(name: str, ray_actors: int = 1, workers: int | None = None) -> Engine:
    """The engine called ``name``; ``ray_actors`` sizes the Ray engine's actor pool, ``workers``
    the local engine's prepare processes (``LocalEngine``)."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose from {sorted(ENGINES)}")
    return RayEngine(ray_actors) if name == RayEngine.name else LocalEngine(workers)
