"""Encode one modality into its table: incremental, chunk-committed, errors recorded.

Resumable by construction: each chunk is one LanceDB commit, and a re-run skips every row whose
slot (id, valid_from) already has the same content hash as its newest row for this encoder
version, so after a ``kill -9`` the next run writes exactly the missing rows (no duplicates,
none lost). Slots, not ids: an item's base and full text are two rows re-encoded independently.
A run that gets through every row marks its encoder version complete (``finish_table``); until
then default reads keep the previous complete version, so a killed re-embed hides nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from features.encoders.base import Encoder
from features.jobs.engines import Engine
from features.jobs.inputs import ModalityInputs
from features.store import FeatureStore, table_name


@dataclass
class ModalityResult:
    table: str
    encoded: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    encoder: str = ""
    encoder_version: str = ""
    unavailable: str | None = None  # why the modality could not run at all
    nodes: dict[str, int] = field(default_factory=dict)  # Ray node id -> rows it encoded
    errors: dict[int, str] = field(default_factory=dict, repr=False)
    # Local engine: prepare (decode + resize, summed over workers), wait (model idle for want of
    # prepared batches), forward (the model), write (store commits), in seconds.
    timings: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        if self.unavailable:
            return f"{self.table}: encoder unavailable ({self.unavailable})"
        rate = self.encoded / self.seconds if self.seconds > 0 else 0.0
        n = len(self.nodes)
        where = f", on {n} Ray node{'s' if n > 1 else ''}" if n else ""
        return (
            f"{self.table}: encoded {self.encoded} / skipped {self.skipped} / "
            f"failed {self.failed} [{self.encoder} {self.encoder_version}, {rate:.1f} items/s"
            f"{where}]"
        )

    @property
    def attempted(self) -> int:
        """Rows the run tried (encoded, already there, or failed): the N of "0 of N"."""
        return self.encoded + self.skipped + self.failed

    def to_dict(self) -> dict:
        keys = ("encoded", "skipped", "failed", "seconds", "encoder", "encoder_version")
        out = {k: getattr(self, k) for k in keys}
        if self.timings:
            out["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        if self.unavailable:
            out["unavailable"] = self.unavailable
        if self.nodes:
            out["nodes"] = dict(self.nodes)
        return out


def finish_table(
    store: FeatureStore, entity: str, modality: str, version: str, job_id: str, wrote: bool
) -> None:
    """Mark ``version`` of a table complete (every row tried, some vectors there), then index.

    The id index is rebuilt after the completion record, also when this run wrote nothing but
    completed a version (a re-run after a kill that landed past the last chunk): the rebuild
    gives the table a new LanceDB version, which is what readers caching aligned vectors by
    table version (serving's hot reload) re-read on; the record alone changes which version
    default reads choose, not the table.
    """
    recorded = store.mark_complete(entity, modality, version, job_id)
    if wrote or recorded:
        store.index_ids(entity, modality)


def encode_modality(
    store: FeatureStore,
    spec: ModalityInputs,
    encoder: Encoder,
    factory: Callable[[], Encoder],
    engine: Engine,
    job_id: str,
    batch_size: int,
    chunk_size: int,
    progress: bool = True,
) -> ModalityResult:
    """Encode the rows of ``spec`` that changed since the last run and commit them in chunks."""
    start = time.perf_counter()
    version = encoder.version
    result = ModalityResult(table_name(spec.entity, spec.modality))
    result.encoder, result.encoder_version = encoder.name, version
    done = store.slot_hashes(spec.entity, spec.modality, version)
    slots = spec.slots()
    todo = [
        i for i, (slot, h) in enumerate(zip(slots, spec.hashes, strict=True)) if done.get(slot) != h
    ]
    result.skipped = len(spec.ids) - len(todo)
    result.errors.update(spec.errors)
    store.record_errors(job_id, spec.entity, spec.modality, spec.errors)
    inputs = [spec.inputs[i] for i in todo]
    bar = tqdm(total=len(todo), desc=result.table, unit="item", disable=not progress or not todo)
    try:
        for chunk in engine.run(encoder, factory, inputs, batch_size, chunk_size):
            written = time.perf_counter()
            ids = [spec.ids[todo[r]] for r in chunk.ok]
            hashes = [spec.hashes[todo[r]] for r in chunk.ok]
            valid_from = [slots[todo[r]][1] for r in chunk.ok]
            store.write(
                spec.entity,
                spec.modality,
                ids,
                chunk.vectors,
                encoder=encoder.name,
                encoder_version=version,
                content_hashes=hashes,
                job_id=job_id,
                valid_from=valid_from,
            )
            errors = {spec.ids[todo[r]]: reason for r, reason in chunk.errors.items()}
            store.record_errors(job_id, spec.entity, spec.modality, errors)
            result.errors.update(errors)
            result.encoded += len(ids)
            for node, n in chunk.nodes.items():
                result.nodes[node] = result.nodes.get(node, 0) + n
            for key, seconds in {**chunk.seconds, "write": time.perf_counter() - written}.items():
                result.timings[key] = result.timings.get(key, 0.0) + seconds
            bar.update(len(chunk.rows))
    finally:
        bar.close()
    result.failed = len(result.errors)
    if result.encoded or result.skipped:  # 0 of N leaves the previous complete version read
        finish_table(store, spec.entity, spec.modality, version, job_id, bool(result.encoded))
    result.seconds = time.perf_counter() - start
    return result
