"""Strict CSV reading: explicit schemas, and errors that name the file and the bad line.

polars parses fast but its errors do not say which line broke. On any parse failure (or a null
in a required column, which is how a short row shows up) we rescan the file with the csv module
to find the first offending line; that slow path only runs on bad input.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from recsys.core.validation import DataValidationError

_PARSERS = {pl.Int64: int, pl.Float64: float, pl.String: str}


def read_csv_checked(
    path: Path, schema: dict[str, type[pl.DataType]], required: tuple[str, ...] | None = None
) -> pl.DataFrame:
    """Read ``path`` with exactly ``schema``'s columns; ``required`` columns must be non-null.

    Raises:
        FileNotFoundError: the file does not exist.
        DataValidationError: wrong header, or a malformed row (message names file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"required file not found: {path}")
    required = tuple(schema) if required is None else required
    try:
        return _read(path, schema, required)
    except UnicodeDecodeError as exc:
        raise DataValidationError(f"{path}: not UTF-8 text ({exc})") from exc


def _read(path: Path, schema: dict, required: tuple[str, ...]) -> pl.DataFrame:
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    missing = [c for c in schema if c not in header]
    if missing:
        raise DataValidationError(
            f"{path}: line 1 (header) lacks column(s) {missing}; found {header}"
        )
    try:
        df = pl.read_csv(path, schema_overrides=schema, columns=list(schema), has_header=True)
        df = df.cast(schema)  # type: ignore[arg-type]
    except Exception as exc:  # polars raises several exception types for malformed CSV
        raise _locate(path, header, schema, required) or DataValidationError(
            f"{path}: could not parse CSV: {exc}"
        ) from exc
    if df.select(pl.any_horizontal(pl.col(c).is_null().any() for c in required)).item():
        raise _locate(path, header, schema, required) or DataValidationError(
            f"{path}: empty value in a required column {list(required)}"
        )
    return df


def _locate(
    path: Path, header: list[str], schema: dict, required: tuple[str, ...]
) -> DataValidationError | None:
    """The first malformed line of ``path`` as an error, or None when every line parses."""
    positions = {name: header.index(name) for name in schema}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        end = reader.line_num
        for row in reader:
            # A quoted field may span lines: report where the record starts.
            line, end = end + 1, reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                return DataValidationError(
                    f"{path}: line {line}: expected {len(header)} fields, got {len(row)}: {row}"
                )
            for name, dtype in schema.items():
                value = row[positions[name]]
                if value == "":
                    if name in required:
                        return DataValidationError(
                            f"{path}: line {line}: empty value in required column '{name}'"
                        )
                    continue
                try:
                    _PARSERS.get(dtype, str)(value)
                except ValueError:
                    return DataValidationError(
                        f"{path}: line {line}: column '{name}' should be {dtype}, got {value!r}"
                    )
    return None
