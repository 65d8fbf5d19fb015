"""Newest vector per id, aligned to a vocabulary: the read that train, index, eval and serving
share (through ``FeatureStore.aligned``).

Rows are chosen on a small (id, encoder_version, created_at) frame and the vectors taken from
Arrow in one copy, so a 1M-row table is read without materialising Python lists.
"""

from __future__ import annotations

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


def newest_rows(arrow: pa.Table, encoder_version: str | None = None) -> tuple[pa.Table, str | None]:
    """(id, vector) rows, newest per id, of one encoder version (default: the newest written).

    Feature tables are append-only with lineage columns; plain ``id``/``vector`` tables
    (benchmarks, hand-written stores) keep the last row per id.
    """
    if arrow.num_rows == 0:
        return arrow.select(["id", "vector"]), encoder_version
    if {"encoder_version", "created_at"} <= set(arrow.column_names):
        meta = pl.from_arrow(arrow.select(["id", "encoder_version", "created_at"]))
        meta = meta.with_row_index()
        version = encoder_version or str(meta.sort("created_at")["encoder_version"][-1])
        meta = meta.filter(pl.col("encoder_version") == version)
        keep = meta.sort("created_at", maintain_order=True).unique("id", keep="last")
    else:
        version = None
        meta = pl.from_arrow(arrow.select(["id"])).with_row_index()
        keep = meta.unique("id", keep="last", maintain_order=True)
    keep = keep.sort("id")
    return arrow.select(["id", "vector"]).take(keep["index"].to_numpy()), version


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
