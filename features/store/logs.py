"""The job-log tables: ``embed_errors`` (per-item failures), ``jobs`` (one summary row per job)
and ``encoder_completions`` (which encoder versions of a feature table a job finished)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pyarrow as pa

from features.store.schema import (
    COMPLETIONS_SCHEMA,
    COMPLETIONS_TABLE,
    ERRORS_SCHEMA,
    ERRORS_TABLE,
    JOBS_SCHEMA,
    JOBS_TABLE,
    TIMESTAMP,
)


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

    def mark_complete(self, entity: str, modality: str, encoder_version: str, job_id: str) -> bool:
        """Record that a job finished ``encoder_version`` of a feature table (every row tried).

        Returns False, writing nothing, when that version already is the newest completion:
        an incremental re-run changes nothing readers choose, so the log does not grow per job.
        """
        if self.complete_versions(entity, modality)[:1] == [encoder_version]:
            return False
        data = pa.table(
            {
                "entity": [entity],
                "modality": [modality],
                "encoder_version": [encoder_version],
                "job_id": [job_id],
                "completed_at": pa.array([utcnow()], TIMESTAMP),
            },
            schema=COMPLETIONS_SCHEMA,
        )
        self._append(COMPLETIONS_TABLE, data)
        return True

    def complete_versions(self, entity: str, modality: str) -> list[str]:
        """Encoder versions of a feature table a job finished, newest completion first."""
        frame = self.completions(entity, modality).sort("completed_at", maintain_order=True)
        return list(dict.fromkeys(reversed(frame["encoder_version"].to_list())))

    def completions(self, entity: str | None = None, modality: str | None = None) -> pl.DataFrame:
        if self._open(COMPLETIONS_TABLE) is None:
            return pl.DataFrame(COMPLETIONS_SCHEMA.empty_table())
        wanted = (("entity", entity), ("modality", modality))
        parts = [f"{column} = {sql_str(value)}" for column, value in wanted if value]
        return self.read(COMPLETIONS_TABLE, where=" AND ".join(parts) or None)

    def completions_version(self) -> int:
        """LanceDB version of the completions table (0: none yet), for caches of the choice."""
        table = self._open(COMPLETIONS_TABLE)
        return 0 if table is None else int(table.version)

    def _append(self, name: str, data: pa.Table) -> None:
        table = self._open(name)
        if table is None:
            self.db.create_table(name, data=data)
        else:
            table.add(data)
