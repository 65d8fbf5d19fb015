"""Point-in-time correct training frames: nothing from after ``as_of`` leaks in.

Only interactions with ``timestamp <= as_of`` are kept, and each one is joined with, per
modality, the feature row of its item/user valid at ``as_of`` in event time: among rows whose
``valid_from`` (when their newest dated input, a tag or a review, was written) is null or
``<= as_of``, the newest ``valid_from`` wins, as in every store read
(``features.store.aligned.newest_positions``). ``created_at <= as_of`` is kept as a write-time
guard on top: a vector written later (even for content that existed earlier) is invisible, as
it would have been to a model trained at ``as_of``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from features.store.aligned import as_utc, newest_frame
from features.store.schema import ITEM_MODALITIES, USER_MODALITIES, table_name

if TYPE_CHECKING:  # the store calls this module: a runtime import would be circular
    from features.store.store import FeatureStore


def features_as_of(
    store: FeatureStore, entity: str, modality: str, as_of: datetime
) -> pl.DataFrame:
    """(id, vector, created_at, valid_from) of the row per id valid at ``as_of``.

    Event time chooses (``valid_from`` null or <= ``as_of``, newest wins); only rows written
    at or before ``as_of`` take part. Uses the encoder version that was newest at ``as_of``,
    so all rows share one space. Tables without ``valid_from`` read it as null.
    """
    as_of = as_utc(as_of)
    name = table_name(entity, modality)
    df = store.read(name, columns=store.choice_columns(name))
    if "valid_from" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("valid_from"))
    known = df.filter(pl.col("created_at") <= pl.lit(as_of))  # what a reader at as_of saw
    return newest_frame(known, as_of=as_of).select("id", "vector", "created_at", "valid_from")


def training_frame(
    store: FeatureStore,
    interactions: pl.DataFrame,
    as_of: datetime,
    item_modalities: Iterable[str] | None = None,
    user_modalities: Iterable[str] | None = None,
) -> pl.DataFrame:
    """Interactions up to ``as_of`` with per-modality feature vectors as known at ``as_of``.

    Adds ``item_<modality>`` / ``user_<modality>`` vector columns (null when the entity had no
    row yet) and ``..._created_at`` / ``..._valid_from`` columns so callers can audit the join.
    Modalities default to every table present in the store.
    """
    as_of = as_utc(as_of)  # canonical timestamps are UTC
    frame = interactions.filter(pl.col("timestamp") <= pl.lit(as_of))
    for entity, key, wanted, default in (
        ("item", "item_id", item_modalities, ITEM_MODALITIES),
        ("user", "user_id", user_modalities, USER_MODALITIES),
    ):
        modalities = list(wanted) if wanted is not None else default
        for modality in modalities:
            if not store.has(entity, modality):
                if wanted is not None:
                    raise KeyError(f"no feature table {table_name(entity, modality)!r}")
                continue
            column = f"{entity}_{modality}"
            feats = features_as_of(store, entity, modality, as_of).rename(
                {
                    "id": key,
                    "vector": column,
                    "created_at": f"{column}_created_at",
                    "valid_from": f"{column}_valid_from",
                }
            )
            frame = frame.join(feats, on=key, how="left")
    return frame
