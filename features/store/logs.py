"""The ``embed_errors`` and ``jobs`` tables: per-item failures and one summary row per job."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pyarrow as pa

from features.store.schema import ERRORS_SCHEMA, ERRORS_TABLE, JOBS_SCHEMA, JOBS_TABLE, TIMESTAMP


def sql_str(value: str) -> str:
    """Quote a string literal for a LanceDB filter (SQL: double the single quotes)."""
    return "'" + str(value).replace("'", "''") + "'"


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobLogMixin:
    """Needs ``_open(name)``, ``read(name, where)`` and ``db`` from the store."""

    db: Any
    _open: Callable[[str], Any]
    read: Callable[..., pl.DataFrame]

    def record_errors(
        self, job_id: str, entity: str, modality: str, errors: Mapping[int, str]
    ) -> None:
        if not errors:
            return
        n = len(errors)
        data = pa.table(
            {
                "job_id": [job_id] * n,
                "entity": [entity] * n,
                "id": pa.array(list(errors), pa.int64()),
                "modality": [modality] * n,
                "reason": list(errors.values()),
                "created_at": pa.array([utcnow()] * n, TIMESTAMP),
            },
            schema=ERRORS_SCHEMA,
        )
        self._append(ERRORS_TABLE, data)

    def errors(self, job_id: str | None = None) -> pl.DataFrame:
        if self._open(ERRORS_TABLE) is None:
            return pl.DataFrame(ERRORS_SCHEMA.empty_table())
        where = f"job_id = {sql_str(job_id)}" if job_id else None
        return self.read(ERRORS_TABLE, where=where)

    def log_job(
        self, job_id: str, kind: str, status: str, started_at: datetime, summary: Mapping
    ) -> None:
        data = pa.table(
            {
                "job_id": [job_id],
                "kind": [kind],
                "status": [status],
                "started_at": pa.array([started_at], TIMESTAMP),
                "finished_at": pa.array([utcnow()], TIMESTAMP),
                "summary": [json.dumps(dict(summary), sort_keys=True, default=str)],
            },
            schema=JOBS_SCHEMA,
        )
        self._append(JOBS_TABLE, data)

    def jobs(self) -> pl.DataFrame:
        if self._open(JOBS_TABLE) is None:
            return pl.DataFrame(JOBS_SCHEMA.empty_table())
        return self.read(JOBS_TABLE).sort("finished_at")

    def _append(self, name: str, data: pa.Table) -> None:
        table = self._open(name)
        if table is None:
            self.db.create_table(name, data=data)
        else:
            table.add(data)
