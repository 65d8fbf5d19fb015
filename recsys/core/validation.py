"""Validate raw frames against the canonical schemas with precise, human-readable errors.

Structural problems (a missing required column, a value that cannot be read as the column's
type) raise ``DataValidationError`` naming the table and column. Row-level problems that the
rest of the data survives (null required fields, dangling ids, duplicate ids, unknown kinds)
are counted in a ``ValidationReport`` and the offending rows dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from recsys.core.schemas import REQUIRED, SCHEMAS, InteractionKind


class DataValidationError(ValueError):
    """Raised for data that cannot be turned into a canonical table; the message says where."""


@dataclass
class ValidationReport:
    """Rows dropped per table and reason, e.g. ``{"interactions": {"dangling item_id": 3}}``."""

    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, table: str, reason: str, count: int) -> None:
        if count:
            per_table = self.dropped.setdefault(table, {})
            per_table[reason] = per_table.get(reason, 0) + count

    @property
    def total_dropped(self) -> int:
        return sum(sum(v.values()) for v in self.dropped.values())

    def summary(self) -> str:
        if not self.dropped:
            return "validation: no rows dropped"
        parts = [
            f"{table}: {count} {reason}"
            for table, reasons in self.dropped.items()
            for reason, count in reasons.items()
        ]
        return "validation dropped " + "; ".join(parts)


def conform(df: pl.DataFrame, table: str, source: str | None = None) -> pl.DataFrame:
    """Check columns and cast to the canonical schema; missing optional columns become nulls."""
    schema = SCHEMAS[table]
    where = f"{table} ({source})" if source else table
    missing = [c for c in REQUIRED[table] if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{where}: missing required column(s) {missing}; found {sorted(df.columns)}"
        )
    columns = []
    for name, dtype in schema.items():
        if name not in df.columns:
            columns.append(pl.repeat(None, df.height, dtype=dtype, eager=True).alias(name))
            continue
        column = df.get_column(name)
        if column.dtype == dtype:
            columns.append(column)
            continue
        try:
            columns.append(column.cast(dtype, strict=True))
        except Exception as exc:  # polars raises several exception types for bad casts
            bad = _first_uncastable(column, dtype)
            raise DataValidationError(
                f"{where}: column '{name}' should be {dtype}, got {column.dtype}"
                + (f" (first bad value {bad!r})" if bad is not None else "")
            ) from exc
    return pl.DataFrame(columns)


def _first_uncastable(column: pl.Series, dtype: pl.DataType) -> object | None:
    try:
        casted = column.cast(dtype, strict=False)
    except Exception:  # some casts (list -> int) fail even non-strictly: no example to show
        return None
    bad = column.filter(casted.is_null() & column.is_not_null())
    return bad[0] if len(bad) else None


def clean(
    items: pl.DataFrame,
    users: pl.DataFrame,
    interactions: pl.DataFrame,
    report: ValidationReport | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, ValidationReport]:
    """Drop rows the pipeline cannot use and count why. Inputs must already be conformed."""
    report = report or ValidationReport()
    items = _drop(
        items,
        pl.col("item_id").is_null() | pl.col("title").is_null(),
        report,
        "items",
        "null item_id/title",
    )
    items = _dedupe(items, "item_id", report, "items")
    users = _drop(users, pl.col("user_id").is_null(), report, "users", "null user_id")
    users = _dedupe(users, "user_id", report, "users")

    required_null = pl.any_horizontal(pl.col(c).is_null() for c in REQUIRED["interactions"])
    interactions = _drop(interactions, required_null, report, "interactions", "null required field")
    kinds = [k.value for k in InteractionKind]
    interactions = _drop(
        interactions,
        ~pl.col("kind").is_in(kinds),
        report,
        "interactions",
        f"unknown kind (expected one of {kinds})",
    )
    bad_rating = pl.col("rating").is_not_null() & ~pl.col("rating").is_between(0.0, 5.0)
    interactions = _drop(interactions, bad_rating, report, "interactions", "rating outside 0..5")
    interactions = _drop(
        interactions,
        ~pl.col("item_id").is_in(items["item_id"].implode()),
        report,
        "interactions",
        "dangling item_id",
    )
    # Users are implied by interactions: an interaction's user missing from `users` is added,
    # not dropped, because many sources (MovieLens) have no user table at all.
    known = users["user_id"]
    new_users = interactions.filter(~pl.col("user_id").is_in(known.implode()))["user_id"].unique()
    if len(new_users):
        extra = pl.DataFrame({"user_id": new_users}).with_columns(
            pl.lit(None, dtype=users.schema["created_at"]).alias("created_at")
        )
        users = pl.concat([users, extra]).sort("user_id")
    return items, users, interactions, report


def _drop(
    df: pl.DataFrame, bad: pl.Expr, report: ValidationReport, table: str, reason: str
) -> pl.DataFrame:
    mask = df.select(bad.fill_null(True).alias("bad"))["bad"]
    report.add(table, reason, int(mask.sum()))
    return df.filter(~mask)


def _dedupe(df: pl.DataFrame, key: str, report: ValidationReport, table: str) -> pl.DataFrame:
    deduped = df.unique(subset=[key], keep="first", maintain_order=True)
    report.add(table, f"duplicate {key}", df.height - deduped.height)
    return deduped
