"""Table names and Arrow schemas of the feature store.

One table per (entity, modality) so that each encoder writes, versions and is read on its own;
every row carries its lineage (encoder, encoder version, content hash, job id, created_at) and
its event time ``valid_from``: when the newest dated input of the row (a user tag, a review) was
written. ``created_at`` says when the row was written; ``valid_from`` from when its content
could have been known. Null = no dated input (catalog metadata, media): valid at any time.
"""

from __future__ import annotations

import pyarrow as pa

# The one modality -> table map: entity ``e`` and modality ``m`` live in table ``f"{e}_{m}"``
# (``table_name``). "fused" is written by the fusion step, not by an encoder.
ITEM_MODALITIES = ("text", "image", "video", "ratings", "review_text", "fused")
USER_MODALITIES = ("history_text", "ratings")
ENTITIES = ("item", "user")
MODALITIES = tuple(dict.fromkeys(ITEM_MODALITIES + USER_MODALITIES))  # any entity's
ERRORS_TABLE = "embed_errors"
JOBS_TABLE = "jobs"
COMPLETIONS_TABLE = "encoder_completions"
LOG_TABLES = (ERRORS_TABLE, JOBS_TABLE, COMPLETIONS_TABLE)  # job bookkeeping, not features
TIMESTAMP = pa.timestamp("us", tz="UTC")
VALID_FROM = pa.field("valid_from", TIMESTAMP)  # absent from tables written before it existed
# A feature row is unique on these columns: re-writing the same content with the same encoder
# version in the same job is a no-op (what makes a re-run after a crash duplicate-free).
ROW_KEY = ["id", "encoder_version", "content_hash", "job_id"]


def table_name(entity: str, modality: str) -> str:
    """``item_text``, ``user_ratings`` …: the feature table of one (entity, modality)."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}; expected one of {ENTITIES}")
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; expected one of {MODALITIES}")
    return f"{entity}_{modality}"


def feature_schema(dim: int) -> pa.Schema:
    """Schema of a feature table holding ``dim``-d vectors."""
    return pa.schema(
        [
            ("id", pa.int64()),
            ("vector", pa.list_(pa.float32(), dim)),
            ("encoder", pa.string()),
            ("encoder_version", pa.string()),
            ("content_hash", pa.string()),
            ("job_id", pa.string()),
            ("created_at", TIMESTAMP),
            # JSON; for fused rows: which modalities and encoder versions went in, and weights.
            ("lineage", pa.string()),
            VALID_FROM,
        ]
    )


ERRORS_SCHEMA = pa.schema(
    [
        ("job_id", pa.string()),
        ("entity", pa.string()),
        ("id", pa.int64()),
        ("modality", pa.string()),
        ("reason", pa.string()),
        ("created_at", TIMESTAMP),
    ]
)

JOBS_SCHEMA = pa.schema(
    [
        ("job_id", pa.string()),
        ("kind", pa.string()),
        ("status", pa.string()),
        ("started_at", TIMESTAMP),
        ("finished_at", TIMESTAMP),
        ("summary", pa.string()),  # JSON: per-modality counts, encoders, engine
    ]
)


# One row per (feature table, encoder version) a job finished: every row attempted and at least
# one vector encoded or already there. Default reads take the newest complete version, so a
# re-embed under a new encoder version (or one killed midway) never hides the complete one.
COMPLETIONS_SCHEMA = pa.schema(
    [
        ("entity", pa.string()),
        ("modality", pa.string()),
        ("encoder_version", pa.string()),
        ("job_id", pa.string()),
        ("completed_at", TIMESTAMP),
    ]
)


def vector_dim(schema: pa.Schema) -> int:
    return schema.field("vector").type.list_size
