"""Answers ranked with a run before it is published, read back memory-mapped by every worker.

Why: ranking one request costs ~20 ms of CPU at 100k items (seven ANN searches, the ranker,
its per-feature reasons), so two cores rank ~100 requests a second against ~7,000 for the
HTTP floor. A known user's home row depends only on the run, the catalog and the request, so
`recsys index` ranks the common requests of every known user once, by the engine the server
loads and through the same call (``serving.answers``), and keeps their JSON bodies with the
run. Every worker and replica maps the same files: the first visit is answered like a repeated
one, and N workers share one copy in the page cache instead of N private caches.

Layout under ``Run.answers_dir``: ``keys.npy`` (sorted uint64 digests of the request keys),
``spans.npy`` (int64 (start, end) into ``bodies.bin`` per key), ``bodies.bin``, and
``manifest.json`` — what they were ranked from — written last: a folder without it is
incomplete and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Hashable, Iterable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def digest(key: Hashable) -> int:
    """A 64-bit digest of a request key, the same in every process (``hash()`` is salted per
    process). The key's ``repr`` is exact for the ints, floats, strings and None it holds."""
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "little")


def write_answer_store(folder: Path, answers: Iterable[tuple[Hashable, bytes]], facts: dict) -> int:
    """Write ``answers`` (key, JSON body) under ``folder`` with ``facts`` in the manifest.

    Returns:
        How many answers were written.

    Raises:
        ValueError: two answers for one key (or two keys with one digest: ~1e-10 at 100k).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # incomplete until it is written again
    keys: list[int] = []
    offsets = [0]
    with (folder / "bodies.bin").open("wb") as out:
        for key, body in answers:
            keys.append(digest(key))
            out.write(body)
            offsets.append(offsets[-1] + len(body))
    order = np.argsort(np.asarray(keys, np.uint64), kind="stable")
    sorted_keys = np.asarray(keys, np.uint64)[order]
    if len(sorted_keys) > 1 and (np.diff(sorted_keys) == 0).any():
        raise ValueError("two answers share one request key")
    starts, ends = np.asarray(offsets[:-1], np.int64), np.asarray(offsets[1:], np.int64)
    np.save(folder / "keys.npy", sorted_keys)
    np.save(folder / "spans.npy", np.stack([starts[order], ends[order]], axis=1))
    (folder / MANIFEST).write_text(json.dumps({**facts, "count": len(keys)}, indent=2))
    return len(keys)


def answers_written(folder: Path) -> int:
    """How many answers a complete store under ``folder`` holds (0: none, or incomplete)."""
    manifest = folder / MANIFEST
    return int(json.loads(manifest.read_text()).get("count", 0)) if manifest.is_file() else 0


class AnswerStore:
    """The answers of one run's folder; ``get`` is a binary search and a slice of a mapping."""

    def __init__(self, folder: Path, facts: dict):
        self.facts = facts
        self._keys = np.load(folder / "keys.npy", mmap_mode="r")
        self._spans = np.load(folder / "spans.npy", mmap_mode="r")
        size = (folder / "bodies.bin").stat().st_size
        self._bodies = (
            np.memmap(folder / "bodies.bin", np.uint8, mode="r") if size else np.zeros(0, np.uint8)
        )

    @classmethod
    def open(cls, folder: Path, expect: dict) -> AnswerStore | None:
        """The store under ``folder`` when it was ranked from what ``expect`` says (every key
        of it equal in the manifest); None when there is none, or it is incomplete or stale."""
        manifest = folder / MANIFEST
        if not manifest.is_file():
            return None
        facts = json.loads(manifest.read_text())
        stale = sorted(k for k, v in expect.items() if facts.get(k) != v)
        if stale:
            log.info("precomputed answers in %s not used: %s changed since", folder, stale)
            return None
        return cls(folder, facts)

    def get(self, key: Hashable) -> bytes | None:
        wanted = np.uint64(digest(key))
        at = int(np.searchsorted(self._keys, wanted))
        if at == len(self._keys) or self._keys[at] != wanted:
            return None
        start, end = self._spans[at]
        return self._bodies[start:end].tobytes()

    def __len__(self) -> int:
        return len(self._keys)
