"""Ratings modality: collaborative factors fitted on all interactions -> item/user tables.

Ratings vectors are a property of the whole interaction log, so the content hash is one hash of
that log: unchanged log -> skip, otherwise every row is rewritten.
"""

from __future__ import annotations

import hashlib
import time
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from features.encoders.ratings import RatingsFeatures
from features.jobs.runner import ModalityResult, finish_table
from features.store import FeatureStore
from recsys.core.catalog import Catalog


class RatingsOptions(BaseModel):
    """``encoder_options.ratings`` of ``embed.json``: the arguments of ``RatingsFeatures.fit``."""

    model_config = ConfigDict(extra="forbid")

    factors: int = Field(default=32, gt=0)
    seed: int = 0
    method: Literal["svd", "als"] = "svd"


def ratings_options(options: dict | None) -> RatingsOptions:
    """Validate before fitting: a typo must be a clear config error, not a TypeError mid-job."""
    try:
        return RatingsOptions.model_validate(options or {})
    except ValidationError as exc:
        allowed = ", ".join(RatingsOptions.model_fields)
        raise ValueError(f"invalid encoder_options.ratings (allowed: {allowed}): {exc}") from exc


def interactions_hash(interactions: pl.DataFrame, item_ids: list[int], user_ids: list[int]) -> str:
    cols = [
        c
        for c in ("user_id", "item_id", "timestamp", "kind", "rating")
        if c in interactions.columns
    ]
    h = hashlib.sha256()
    h.update(np.asarray(interactions.select(cols).hash_rows(seed=0).sort()).tobytes())
    h.update(np.asarray(sorted(item_ids), np.int64).tobytes())
    h.update(np.asarray(sorted(user_ids), np.int64).tobytes())
    return h.hexdigest()[:32]


def _aligned(vectors, ids: list[int]) -> tuple[list[int], np.ndarray]:
    """Drop all-zero rows (no signal to store), keeping ids aligned."""
    vectors = np.asarray(vectors, np.float32)  # (n, d)
    keep = np.linalg.norm(vectors, axis=1) > 0
    return [i for i, k in zip(ids, keep, strict=True) if k], vectors[keep]


def embed_ratings(
    store: FeatureStore, catalog: Catalog, job_id: str, options: dict | None = None
) -> list[ModalityResult]:
    start = time.perf_counter()
    fit_options = ratings_options(options).model_dump()
    results = [ModalityResult("item_ratings"), ModalityResult("user_ratings")]
    item_ids = [int(i) for i in catalog.items["item_id"].to_list()]
    user_ids = [int(u) for u in catalog.users["user_id"].to_list()]
    digest = interactions_hash(catalog.interactions, item_ids, user_ids)
    # Fitting is cheap next to the encoders (one truncated SVD), and the version is only known
    # after it, so fit first and skip the writes when nothing changed.
    model = RatingsFeatures.fit(catalog.interactions, item_ids, user_ids, **fit_options)
    version = str(model.version)
    for r, entity, ids, vectors in zip(
        results,
        ("item", "user"),
        (item_ids, user_ids),
        (model.item_vectors(), model.user_vectors()),
        strict=True,
    ):
        kept, vecs = _aligned(vectors, ids)
        r.encoder, r.encoder_version = model.name, version
        done = store.latest_hashes(entity, "ratings", version)
        if kept and all(done.get(i) == digest for i in kept):
            r.skipped = len(kept)
        else:
            store.write(
                entity,
                "ratings",
                kept,
                vecs,
                encoder=model.name,
                encoder_version=version,
                content_hashes=[digest] * len(kept),
                job_id=job_id,
            )
            r.encoded = len(kept)
        if kept:  # one write holds every row: written (or already there) means complete
            finish_table(store, entity, "ratings", version, job_id, bool(r.encoded))
        r.seconds = time.perf_counter() - start
    return results
