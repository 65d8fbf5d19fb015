"""The store's one row choice (per id, of one encoder version: the row valid at a time, newest
first) and those vectors aligned to a vocabulary: the read that train, index, eval and serving
share (through ``FeatureStore.aligned``), and that point-in-time reads share too.

Rows are chosen on a small (id, encoder_version, created_at, valid_from) frame and the vectors
taken from Arrow in one copy, so a 1M-row table is read without materialising Python lists;
``align_rows`` takes them chunk by chunk straight into vocabulary order, so the aligned matrix
is the read's only full-size copy beside the table itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

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
        as_of: the event-time cut-off read at (None: now, every row a candidate).
    """

    table: str
    matrix: np.ndarray
    present: np.ndarray
    encoder_version: str | None
    table_version: int
    as_of: datetime | None = None

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def lineage(self) -> dict[str, object]:
        out: dict[str, object] = {
            "table": self.table,
            "encoder_version": self.encoder_version,
            "table_version": self.table_version,
            "rows": int(self.present.sum()),
        }
        if self.as_of is not None:  # only then: "now" reads keep the lineage they always had
            out["as_of"] = self.as_of.isoformat()
        return out


ROW_CHOICE = ("id", "encoder_version", "created_at", "valid_from")
"""Columns the row choice reads when present (plain id/vector tables have only ``id``; tables
written before event times existed have no ``valid_from``, which reads as null)."""


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (canonical timestamps are UTC; naive means UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def valid_at(as_of: datetime) -> pl.Expr:
    """Rows whose content could be known at ``as_of`` (event time; null = no dated input)."""
    return pl.col("valid_from").is_null() | (pl.col("valid_from") <= pl.lit(as_utc(as_of)))


def newest_version(meta: pl.DataFrame, complete: Sequence[str] = ()) -> str | None:
    """The encoder version default reads use (None: empty or a plain table).

    The first of ``complete`` (versions a job finished, newest completion first) that the table
    still holds; else, for tables no job marked complete (written before completions were
    recorded, or by hand), the version of the most recently written row. A completion whose
    rows are gone (a fused table rewritten at a new width) is passed over.
    """
    if meta.is_empty() or not {"encoder_version", "created_at"} <= set(meta.columns):
        return None
    if complete:
        held = set(meta["encoder_version"].unique().to_list())
        for version in complete:
            if version in held:
                return version
    return str(meta.sort("created_at", maintain_order=True)["encoder_version"][-1])


def newest_positions(
    meta: pl.DataFrame,
    encoder_version: str | None = None,
    as_of: datetime | None = None,
    complete: Sequence[str] = (),
) -> tuple[np.ndarray, str | None]:
    """Row positions, in id order, of the row chosen per id for one encoder version.

    The one row choice of the store. ``encoder_version`` defaults to ``newest_version(meta,
    complete)``: the newest complete version, else the newest written. With
    ``as_of``, only rows valid then (``valid_from`` null or <= ``as_of``) are candidates. The
    newest ``valid_from`` wins (null counts as oldest): an item's text with its tags beats
    its tag-free base text once the tags exist, and always when reading "now". Then the newest
    ``created_at`` (a re-written row replaces the old one); ties go to the later row. Plain
    ``id``/``vector`` tables (benchmarks, hand-written stores) keep the last row per id.
    """
    if meta.is_empty():
        return np.zeros(0, np.int64), encoder_version
    meta = meta.with_row_index()
    dated = "valid_from" in meta.columns
    if {"encoder_version", "created_at"} <= set(meta.columns):
        # Chosen before the as_of filter: a read at any time returns the space serving uses.
        version = encoder_version or newest_version(meta, complete)
        meta = meta.filter(pl.col("encoder_version") == version)
        order = ["valid_from", "created_at"] if dated else ["created_at"]
        meta = meta.sort(order, nulls_last=False, maintain_order=True)
    else:
        version = None
    if as_of is not None and dated:
        meta = meta.filter(valid_at(as_of))
    keep = meta.unique("id", keep="last", maintain_order=True).sort("id")
    return keep["index"].to_numpy(), version


def newest_rows(
    arrow: pa.Table,
    encoder_version: str | None = None,
    columns: Sequence[str] = ("id", "vector"),
    as_of: datetime | None = None,
    complete: Sequence[str] = (),
) -> tuple[pa.Table, str | None]:
    """``columns`` of the chosen row per id (``newest_positions``), and the version read.

    Rows are chosen on the small row-choice frame and taken from Arrow, so the vectors are
    copied once.
    """
    positions, version = chosen_positions(arrow, encoder_version, as_of, complete)
    return arrow.select(list(columns)).take(positions), version


def chosen_positions(
    arrow: pa.Table,
    encoder_version: str | None = None,
    as_of: datetime | None = None,
    complete: Sequence[str] = (),
) -> tuple[np.ndarray, str | None]:
    """``newest_positions`` over an Arrow table's row-choice columns (and the version read)."""
    meta = pl.DataFrame(arrow.select([c for c in ROW_CHOICE if c in arrow.column_names]))
    return newest_positions(meta, encoder_version, as_of, complete)


def newest_frame(
    frame: pl.DataFrame, encoder_version: str | None = None, as_of: datetime | None = None
) -> pl.DataFrame:
    """The chosen row per id of a polars frame of feature rows (``newest_positions``)."""
    meta = frame.select([c for c in ROW_CHOICE if c in frame.columns])
    positions, _ = newest_positions(meta, encoder_version, as_of)
    return frame[positions]


def to_numpy(rows: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(ids (n,) int64, vectors (n, d) float32) of an (id, vector) Arrow table."""
    ids = rows.column("id").to_numpy().astype(np.int64)
    if not len(ids):
        return ids, np.zeros((0, 0), np.float32)
    flat = rows.column("vector").combine_chunks().flatten()  # flatten honours list offsets
    vectors = flat.to_numpy(zero_copy_only=False).astype(np.float32).reshape(len(ids), -1)
    return ids, vectors


ALIGN_CHUNK = 100_000  # rows taken from Arrow per step (0.5 GB at 1,280-d)


def align_rows(
    arrow: pa.Table, positions: np.ndarray, vocab: IdVocab, chunk: int = ALIGN_CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """(matrix (n, d) float32 in ``vocab`` order, present (n,) bool): the (id, vector) rows of
    ``arrow`` at ``positions`` scattered ``chunk`` rows at a time (ids outside the vocabulary
    dropped, zero rows where nothing was chosen). Taken whole and then scattered, the rows made
    two full-size temporaries (at 1M x 1,280-d, 5 GB each: train's content read outgrew 24 GB).
    """
    matrix, present = None, np.zeros(len(vocab), bool)
    rows = arrow.select(["id", "vector"])
    for lo in range(0, len(positions), chunk):
        ids, vectors = to_numpy(rows.take(positions[lo : lo + chunk]))
        if matrix is None:
            matrix = np.zeros((len(vocab), max(vectors.shape[1], 1)), np.float32)  # (n, d)
        pos = vocab.index(ids)
        keep = pos >= 0
        matrix[pos[keep]] = vectors[keep]
        present[pos[keep]] = True
    if matrix is None:  # nothing chosen: one zero column
        matrix = np.zeros((len(vocab), 1), np.float32)
    return matrix, present
