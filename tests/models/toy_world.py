"""A tiny clustered world with a known answer, for the hybrid tests.

Items fall into clusters; an item's content vector is its cluster centroid plus noise; each user
watches items of one cluster only, in time order. A model that learns anything recommends a
user's own cluster, and can place an unseen item from its content alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from tests.worlds import views_frame


@dataclass
class ToyWorld:
    interactions: pl.DataFrame
    item_ids: np.ndarray  # (N,) int64
    content: np.ndarray  # (N, dim) float32
    item_cluster: np.ndarray  # (N,) int64
    user_cluster: dict[int, int]  # user_id -> cluster


def cluster_world(
    clusters: int = 4,
    items_per_cluster: int = 12,
    users_per_cluster: int = 8,
    per_user: int = 8,
    dim: int = 16,
    noise: float = 0.1,
    seed: int = 0,
) -> ToyWorld:
    rng = np.random.default_rng(seed)
    centroids = rng.normal(size=(clusters, dim))
    item_cluster = np.repeat(np.arange(clusters), items_per_cluster)
    content = centroids[item_cluster] + noise * rng.normal(size=(len(item_cluster), dim))
    content /= np.linalg.norm(content, axis=1, keepdims=True)
    item_ids = np.arange(len(item_cluster), dtype=np.int64) + 100
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows, user_cluster = [], {}
    for c in range(clusters):
        pool = item_ids[item_cluster == c]
        for j in range(users_per_cluster):
            user = c * users_per_cluster + j + 1
            user_cluster[user] = c
            watched = rng.choice(pool, size=min(per_user, len(pool)), replace=False)
            for t, item in enumerate(watched):
                rows.append((user, int(item), start + timedelta(hours=t, minutes=user)))
    df = views_frame(rows)
    return ToyWorld(df, item_ids, content.astype(np.float32), item_cluster, user_cluster)
