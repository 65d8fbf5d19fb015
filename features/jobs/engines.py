"""Where encoding runs: in this process, or on Ray Data. Both yield the same committed chunks.

An engine only turns inputs into vectors; the runner (one writer, in the driver) commits each
chunk to the store, so local and Ray runs produce identical tables.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from features.encoders.base import Encoder


@dataclass
class Chunk:
    """Result for positions ``rows`` of the todo list: ``vectors[j]`` belongs to ``ok[j]``."""

    rows: list[int]
    ok: list[int]
    vectors: np.ndarray
    errors: dict[int, str] = field(default_factory=dict)


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


class LocalEngine(Engine):
    name = "local"

    def run(self, encoder, factory, inputs, batch_size, chunk_size):
        for start in range(0, len(inputs), chunk_size):
            rows = list(range(start, min(start + chunk_size, len(inputs))))
            yield encode_rows(encoder, inputs, rows, batch_size)


class _RayEncode:
    """Ray Data actor: builds its encoder once, then encodes batches of (row, input)."""

    def __init__(self, factory: Callable[[], Encoder]):
        self.encoder = factory()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [int(r) for r in batch["row"]]
        inputs = list(batch["input"])
        chunk = encode_rows(self.encoder, inputs, list(range(len(rows))), len(rows))
        vectors = np.zeros((len(rows), self.encoder.dim), np.float32)  # (B, dim); 0 = failed
        vectors[chunk.ok] = chunk.vectors
        errors = [chunk.errors.get(j, "") for j in range(len(rows))]
        ok = np.zeros(len(rows), bool)
        ok[chunk.ok] = True
        return {"row": np.array(rows), "ok": ok, "vector": vectors, "error": np.array(errors)}


class RayEngine(Engine):
    """Ray Data on a local cluster (or the one ``RAY_ADDRESS`` points at)."""

    name = "ray"

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
            concurrency=1,  # one model copy; raise on a multi-GPU/multi-node cluster
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
            yield Chunk(rows, ok, np.asarray(batch["vector"], np.float32)[ok_mask], errors)


ENGINES: dict[str, type[Engine]] = {"local": LocalEngine, "ray": RayEngine}


def create_engine(name: str) -> Engine:
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose from {sorted(ENGINES)}")
    return ENGINES[name]()
