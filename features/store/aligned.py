"""The store's one row choice (newest row per id of one encoder version) and the newest vector
per id aligned to a vocabulary: the read that train, index, eval and serving share (through
``FeatureStore.aligned``).

Rows are chosen on a small (id, encoder_version, created_at) frame and the vectors taken from
Arrow in one copy, so a 1M-row table is read without materialising Python lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from recsys.core.interactions import IdVocab


@dataclass(frozen=True)
class AlignedVectors:
    """(n, d) vectors in vocabulary order; rows without a stored vector are zeros.

    Attributes:
        table: feature table the rows came from (``item_text`` …).
        matrix: (n, d) float32 in ``vocab`` order.
        present: (n,) bool, True where the table holds a vector for that id.
        encoder_version: the encoder version read (None for plain id/vector tables).
        table_version: LanceDB version of the table at read time (lineage, reuse on reload).
    """

    table: str
    matrix: np.ndarray
    present: np.ndarray
    encoder_version: str | None
    table_version: int

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def lineage(self) -> dict[str, object]:
        return {
            "table": self.table,
            "encoder_version": self.encoder_version,
            "table_version": self.table_version,
            "rows": int(self.present.sum()),
        }


ROW_CHOICE = ("id", "encoder_version", "created_at")
"""Columns the row choice reads (plain id/vector tables have only ``id``)."""


def newest_version(meta: pl.DataFrame) -> str | None:
    """Encoder version of the most recently written row (None: empty or a plain table)."""
    if meta.is_empty() or not {"encoder_version", "created_at"} <= set(meta.columns):
        return None
    return str(meta.sort("created_at", maintain_order=True)["encoder_version"][-1])


def newest_positions(
    meta: pl.DataFrame, encoder_version: str | None = None
) -> tuple[np.ndarray, str | None]:
    """Row positions, in id order, of the newest row per id of one encoder version.

    The one row choice of the store: ``encoder_version`` defaults to the newest written; ties
    on ``created_at`` go to the later row (the later write). Plain ``id``/``vector`` tables
    (benchmarks, hand-written stores) keep the last row per id.
    """
    if meta.is_empty():
        return np.zeros(0, np.int64), encoder_version
    meta = meta.with_row_index()
    if {"encoder_version", "created_at"} <= set(meta.columns):
        version = encoder_version or newest_version(meta)
        meta = meta.filter(pl.col("encoder_version") == version)
        meta = meta.sort("created_at", maintain_order=True)
    else:
        version = None
    keep = meta.unique("id", keep="last", maintain_order=True).sort("id")
    return keep["index"].to_numpy(), version


def newest_rows(
    arrow: pa.Table, encoder_version: str | None = None, columns: Sequence[str] = ("id", "vector")
) -> tuple[pa.Table, str | None]:
    """``columns`` of the newest row per id (``newest_positions``), and the version read.

    Rows are chosen on the small (id, encoder_version, created_at) frame and taken from Arrow,
    so the vectors are copied once.
    """
    meta = pl.DataFrame(arrow.select([c for c in ROW_CHOICE if c in arrow.column_names]))
    positions, version = newest_positions(meta, encoder_version)
    return arrow.select(list(columns)).take(positions), version


def newest_frame(frame: pl.DataFrame, encoder_version: str | None = None) -> pl.DataFrame:
    """The newest row per id of a polars frame of feature rows (``newest_positions``)."""
    meta = frame.select([c for c in ROW_CHOICE if c in frame.columns])
    positions, _ = newest_positions(meta, encoder_version)
    return frame[positions]


def to_numpy(rows: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(ids (n,) int64, vectors (n, d) float32) of an (id, vector) Arrow table."""
    ids = rows.column("id").to_numpy().astype(np.int64)
    if not len(ids):
        return ids, np.zeros((0, 0), np.float32)
    flat = rows.column("vector").combine_chunks().flatten()  # flatten honours list offsets
    vectors = flat.to_numpy(zero_copy_only=False).astype(np.float32).reshape(len(ids), -1)
    return ids, vectors


def align(ids: np.ndarray, vectors: np.ndarray, vocab: IdVocab) -> tuple[np.ndarray, np.ndarray]:
    """Scatter (ids, vectors) into vocabulary order; ids outside the vocabulary are dropped."""
    dim = vectors.shape[1] if vectors.ndim == 2 and len(ids) else 0
    matrix = np.zeros((len(vocab), max(dim, 1)), np.float32)  # (n, d)
    present = np.zeros(len(vocab), bool)
    if not len(ids):
        return matrix, present
    pos = vocab.index(ids)
    keep = pos >= 0
    matrix[pos[keep]] = vectors[keep]
    present[pos[keep]] = True
    return matrix, present
