"""``FeatureStore``: per-(entity, modality) LanceDB tables with lineage and time travel.

Rows are append-only: a new encoder version or a changed input writes a new row next to the old
ones, so older vectors stay readable (and point-in-time reads stay correct). An id may hold rows
for several event times (``valid_from``: an item's text before and after its user tags). Every
read chooses its rows with ``features.store.aligned.newest_positions``: within one encoder
version, the newest ``valid_from`` (at or before ``as_of`` when given), then the newest
``created_at``. Reads that name no encoder version use the newest one a job marked complete
(``encoder_completions``), so a half-done re-embed never replaces a whole table's vectors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from features.store.aligned import (
    ROW_CHOICE,
    AlignedVectors,
    align_rows,
    as_utc,
    chosen_positions,
    newest_rows,
    newest_version,
    to_numpy,
)
from features.store.logs import JobLogMixin, sql_str, utcnow
from features.store.pit import training_frame
from features.store.schema import (
    LOG_TABLES,
    ROW_KEY,
    TIMESTAMP,
    VALID_FROM,
    feature_schema,
    table_name,
    vector_dim,
)
from recsys.core.interactions import IdVocab

Lookup = tuple[np.ndarray, np.ndarray]  # (ids int64 (n,), vectors float32 (n, dim))
Slot = tuple[int, datetime | None]  # (id, valid_from): one event time of one id


class FeatureStore(JobLogMixin):
    """Feature tables in one LanceDB database (a local path or an object-store URI)."""

    def __init__(self, uri: str):
        import lancedb  # heavy; only when a store is opened

        self.uri = str(uri)
        self.db = lancedb.connect(self.uri)
        # table -> ((table version, completions version), encoder version): a completion record
        # changes the default version without changing the feature table's version.
        self._latest: dict[str, tuple[tuple[int, int], str]] = {}

    @staticmethod
    def exists(uri: str) -> bool:
        """False for a local path with no store yet (opening one would create it)."""
        return "://" in str(uri) or Path(uri).exists()

    # ------------------------------------------------------------------ tables
    def table_names(self) -> list[str]:
        """Feature tables (and hand-written ones); the job-log tables are not listed."""
        return [name for name in self._tables() if name not in LOG_TABLES]

    def _tables(self) -> list[str]:
        return sorted(self.db.list_tables().tables)

    def _open(self, name: str, version: int | None = None):
        if name not in self._tables():
            return None
        return self.db.open_table(name, version=version) if version else self.db.open_table(name)

    def _require(self, name: str, version: int | None = None):
        table = self._open(name, version)
        if table is None:
            raise KeyError(
                f"feature table {name!r} does not exist in {self.uri}: run `recsys embed`"
            )
        return table

    def has(self, entity: str, modality: str) -> bool:
        return table_name(entity, modality) in self.table_names()

    def dim(self, entity: str, modality: str) -> int:
        """The width of the table's vectors (KeyError: no such table)."""
        return vector_dim(self._require(table_name(entity, modality)).schema)

    # ------------------------------------------------------------------ writes
    def write(
        self,
        entity: str,
        modality: str,
        ids: Sequence[int] | np.ndarray,
        vectors: np.ndarray,
        *,
        encoder: str,
        encoder_version: str,
        content_hashes: Sequence[str],
        job_id: str,
        lineage: Mapping[str, Any] | None = None,
        created_at: datetime | None = None,
        replace_on_dim_change: bool = False,
        valid_from: Sequence[datetime | None] | None = None,
    ) -> int:
        """Append feature rows in one commit; rows already present (same key) are skipped.

        Returns the number of rows inserted. ``valid_from`` is each row's event time (None:
        no dated input, the default for every row). ``replace_on_dim_change`` lets derived
        tables (fused) start over when their width changes; old versions stay readable via
        checkout.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)  # (n, dim)
        n = len(ids)
        valid = [None] * n if valid_from is None else [_utc_or_none(v) for v in valid_from]
        if (
            vectors.ndim != 2
            or vectors.shape[0] != n
            or len(content_hashes) != n
            or len(valid) != n
        ):
            raise ValueError(
                f"write({entity}, {modality}): {n} ids, vectors {vectors.shape}, "
                f"{len(content_hashes)} hashes, {len(valid)} valid_from: lengths must agree"
            )
        if n == 0:
            return 0
        dim = vectors.shape[1]
        schema = feature_schema(dim)
        stamp = created_at or utcnow()
        lineage_json = json.dumps(dict(lineage), sort_keys=True) if lineage else None
        data = pa.table(
            {
                "id": pa.array(np.asarray(ids, dtype=np.int64)),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
                "encoder": pa.array([encoder] * n, pa.string()),
                "encoder_version": pa.array([encoder_version] * n, pa.string()),
                "content_hash": pa.array(list(content_hashes), pa.string()),
                "job_id": pa.array([job_id] * n, pa.string()),
                "created_at": pa.array([stamp] * n, TIMESTAMP),
                "lineage": pa.array([lineage_json] * n, pa.string()),
                "valid_from": pa.array(valid, TIMESTAMP),
            },
            schema=schema,
        )
        name = table_name(entity, modality)
        table = self._open(name)
        if table is not None and vector_dim(table.schema) != dim:
            if not replace_on_dim_change:
                raise ValueError(
                    f"table {name!r} holds {vector_dim(table.schema)}-d vectors but encoder "
                    f"{encoder!r} ({encoder_version}) gives {dim}-d; use another store URI or "
                    f"drop the table"
                )
            table = self.db.create_table(name, data=data, mode="overwrite")
            return n
        if table is None:
            self.db.create_table(name, data=data)
            return n
        if VALID_FROM.name not in table.schema.names:
            # A table from before event times: its rows had no dated input, all-null is exact.
            table.add_columns(VALID_FROM)
        result = table.merge_insert(ROW_KEY).when_not_matched_insert_all().execute(data)
        return int(result.num_inserted_rows)

    def index_ids(self, entity: str, modality: str) -> None:
        """(Re)build the scalar index on ``id`` that online lookups filter on."""
        from lancedb.index import BTree

        table = self._open(table_name(entity, modality))
        if table is not None and table.count_rows() > 0:
            table.create_index("id", config=BTree(), replace=True)

    # ------------------------------------------------------------------ reads
    def _arrow(self, table, where: str | None = None, columns: list[str] | None = None) -> pa.Table:
        if where is None and columns is None:
            return table.to_arrow()
        query = table.search()
        if where is not None:
            query = query.where(where)
        if columns is not None:
            query = query.select(columns)
        return query.limit(None).to_arrow()

    def read(
        self, name: str, where: str | None = None, columns: list[str] | None = None, version=None
    ) -> pl.DataFrame:
        """Raw rows of any table (all versions of every id), optionally filtered (SQL)."""
        return pl.DataFrame(self._arrow(self._require(name, version), where, columns))

    def latest_encoder_version(self, entity: str, modality: str) -> str:
        """The encoder version a plain read returns: the newest complete one, else the newest
        written (``features.store.aligned.newest_version``)."""
        name = table_name(entity, modality)
        key = (int(self._require(name).version), self.completions_version())
        cached = self._latest.get(name)
        if cached and cached[0] == key:  # online lookups: no full scan per request
            return cached[1]
        meta = self.read(name, columns=["encoder_version", "created_at"])
        latest = newest_version(meta, self.complete_versions(entity, modality))
        if latest is None:
            raise KeyError(f"feature table {name!r} is empty")
        self._latest[name] = (key, latest)
        return latest

    def _newest(
        self,
        entity: str,
        modality: str,
        encoder_version: str | None,
        where: str = "",
        columns: list[str] | None = None,
    ) -> pa.Table:
        """``columns`` (default: all) of the newest row per id of ``where``'s rows, by id."""
        version = encoder_version or self.latest_encoder_version(entity, modality)
        clause = f"encoder_version = {sql_str(version)}" + (f" AND ({where})" if where else "")
        table = self._require(table_name(entity, modality))
        choice = [c for c in ROW_CHOICE if c in table.schema.names]
        read = None if columns is None else list(dict.fromkeys([*choice, *columns]))
        arrow = self._arrow(table, clause, read)
        return newest_rows(arrow, version, columns=columns or arrow.column_names)[0]

    def rows(
        self, entity: str, modality: str, encoder_version: str | None = None, where: str = ""
    ) -> pl.DataFrame:
        """The chosen row per id for one encoder version (default: the newest complete)."""
        return pl.DataFrame(self._newest(entity, modality, encoder_version, where))

    def latest_hashes(self, entity: str, modality: str, encoder_version: str) -> dict[int, str]:
        """id -> content hash of the row reads choose for ``encoder_version`` ({} if none)."""
        if not self.has(entity, modality):
            return {}
        rows = self._newest(entity, modality, encoder_version, columns=["id", "content_hash"])
        return dict(zip(rows["id"].to_pylist(), rows["content_hash"].to_pylist(), strict=True))

    def slot_hashes(self, entity: str, modality: str, encoder_version: str) -> dict[Slot, str]:
        """(id, valid_from) -> content hash of that slot's newest row ({} if none).

        What an incremental job compares against: an id's base and full text are separate
        slots, each re-encoded only when its own text changed. (A per-slot lookup for writes;
        reads choose one row per id with ``newest_positions``.)
        """
        name = table_name(entity, modality)
        table = self._open(name)
        if table is None:
            return {}
        wanted = ("id", "valid_from", "created_at", "content_hash")
        frame = self.read(
            name,
            where=f"encoder_version = {sql_str(encoder_version)}",
            columns=[c for c in wanted if c in table.schema.names],
        )
        if "valid_from" not in frame.columns:  # a table from before event times
            frame = frame.with_columns(
                pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("valid_from")
            )
        newest = frame.sort("created_at", maintain_order=True).unique(
            ["id", "valid_from"], keep="last", maintain_order=True
        )
        rows = newest.select("id", "valid_from", "content_hash").iter_rows()
        return {(int(i), v): str(h) for i, v, h in rows}

    def vectors(self, entity: str, modality: str, encoder_version: str | None = None) -> Lookup:
        """All latest vectors of a table, sorted by id: for index building and training."""
        table = self._require(table_name(entity, modality))
        arrow = self._arrow(table, columns=_columns(table))
        complete = self.complete_versions(entity, modality)
        rows, _ = newest_rows(arrow, encoder_version, complete=complete)
        return to_numpy(rows)

    def aligned(
        self,
        entity: str,
        modality: str,
        vocab: IdVocab,
        encoder_version: str | None = None,
        as_of: datetime | None = None,
    ) -> AlignedVectors | None:
        """One vector per id of one table, in ``vocab`` order; None if there is no table.

        The one read of vectors for training, indexing, evaluation and serving: every caller
        sees the same encoder version (default: the newest complete, see ``newest_version``)
        and the same rows. With ``as_of`` (event time), only rows whose inputs existed then
        are read: an item tagged after ``as_of`` gets its base text, an item first reviewed
        after it no review vector. Without it, the newest row (full text, all reviews) as
        serving and "now" training see.
        """
        name = table_name(entity, modality)
        table = self._open(name)
        if table is None:
            return None
        stamp = None if as_of is None else as_utc(as_of)
        arrow = self._arrow(table, columns=_columns(table))
        complete = self.complete_versions(entity, modality)
        positions, version = chosen_positions(arrow, encoder_version, stamp, complete)
        matrix, present = align_rows(arrow, positions, vocab)
        # Arrow's allocator keeps what a read freed for later reads: after the 100k-item
        # text, image and fused tables a server held 1.3 GB of it (RSS 3.2 vs 1.9 GB)
        del arrow
        pa.default_memory_pool().release_unused()
        return AlignedVectors(name, matrix, present, version, int(table.version), stamp)

    def read_state(self, entity: str, modality: str) -> tuple[int, int] | None:
        """What a default ``aligned`` read of the table depends on: (table version,
        completions version); None when there is no table.

        Two reads at the same state over the same vocabulary return the same rows, so a
        caller may keep a copy keyed by it (``serving.engine.vector_cache``) and skip the read.
        """
        table = self._open(table_name(entity, modality))
        return None if table is None else (int(table.version), self.completions_version())

    def get(
        self,
        entity: str,
        ids: Iterable[int],
        modalities: Iterable[str],
        encoder_version: str | Mapping[str, str] | None = None,
    ) -> dict[str, Lookup]:
        """Online lookup by id; ids without a vector are simply absent from ``ids_found``."""
        wanted = sorted({int(i) for i in ids})
        out: dict[str, Lookup] = {}
        for modality in modalities:
            version = (
                encoder_version.get(modality)
                if isinstance(encoder_version, Mapping)
                else encoder_version
            )
            if not wanted or not self.has(entity, modality):
                out[modality] = (np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
                continue
            where = f"id IN ({', '.join(map(str, wanted))})"
            rows = self._newest(entity, modality, version, where, columns=["id", "vector"])
            out[modality] = to_numpy(rows)
        return out

    # ------------------------------------------------------------------ versions
    def versions(self, table: str) -> dict[str, Any]:
        """LanceDB table versions (number, timestamp, rows) and the encoder versions present."""
        handle = self._require(table)
        history = [
            {
                "version": v["version"],
                "timestamp": v["timestamp"],
                "rows": int(v.get("metadata", {}).get("total_rows", -1)),
            }
            for v in handle.list_versions()
        ]
        encoders = self.read(table, columns=["encoder", "encoder_version", "created_at"])
        summary = (
            encoders.group_by("encoder", "encoder_version")
            .agg(pl.len().alias("rows"), pl.col("created_at").max().alias("last_written"))
            .sort("last_written")
        )
        return {"table_versions": history, "encoder_versions": summary.to_dicts()}

    def read_version(self, table: str, version: int) -> pl.DataFrame:
        """The whole table as it was at LanceDB ``version`` (time travel via checkout)."""
        handle = self._require(table)
        handle.checkout(version)
        return pl.DataFrame(handle.to_arrow())

    def training_frame(self, interactions: pl.DataFrame, as_of: datetime, **kwargs) -> pl.DataFrame:
        """Point-in-time training rows; see ``features.store.pit.training_frame``."""
        return training_frame(self, interactions, as_of, **kwargs)

    def choice_columns(self, name: str) -> list[str]:
        """The row-choice and vector columns table ``name`` has (lineage strings left out)."""
        return _columns(self._require(name))


def _columns(table) -> list[str]:
    """What the row choice and the vectors need: lineage strings are not read."""
    return [c for c in (*ROW_CHOICE, "vector") if c in table.schema.names]


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)
