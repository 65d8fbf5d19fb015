"""Timestamped views, ratings and reviews drawn from taste·style and popularity, vectorised.

Each draw picks an item with probability proportional to
``popularity * recency_boost * exp(strength * taste·style)`` among items already released at the
draw's time. Computing that over the whole catalog per draw would cost O(items) each, so we use
sampling-importance-resampling: K candidates come from a proposal (half popularity, half
uniform over released items, found by binary search on cumulative sums because items are sorted
by release), are weighted by target/proposal, and one is kept by the Gumbel-max trick. Work and
memory are O(draws * K), processed in fixed-size chunks.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from recsys.core.schemas import TIMESTAMP
from recsys.datasets.synthetic.config import SynthConfig
from recsys.datasets.synthetic.world import DAY_US, World

CANDIDATES = 16  # proposal draws per interaction (half popularity, half uniform)
CHUNK = 131_072  # draws per vectorised chunk: CHUNK * CANDIDATES * dim floats in flight
OVERSAMPLE = 1.15  # extra draws so that dropping repeated user-item pairs still meets targets
KIND_P = (0.55, 0.35, 0.10)  # view, rating, review


def user_counts(cfg: SynthConfig, world: World, rng: np.random.Generator) -> np.ndarray:
    """Interactions per user: a heavy-tailed activity split plus some 1-2 interaction users."""
    n_users = len(world.user_ids)
    sparse = rng.random(n_users) < cfg.sparse_user_fraction
    sparse[rng.integers(n_users)] = True  # at least one, even in tiny configs
    counts = np.zeros(n_users, dtype=np.int64)
    counts[sparse] = rng.integers(1, 3, int(sparse.sum()))
    rest = max(cfg.interactions - int(counts.sum()), 0)
    p = np.where(sparse, 0.0, world.user_activity)
    counts[~sparse] = rng.multinomial(rest, p / p.sum())[~sparse]
    counts[~sparse] = np.maximum(counts[~sparse], 3)
    # Nobody sees more than half of the catalog; what the capped users lose goes to the others.
    cap = max(3, int(0.5 * (~world.cold).sum()))
    for _ in range(3):
        counts = np.minimum(counts, cap)
        short = cfg.interactions - int(counts.sum())
        open_ = ~sparse & (counts < cap)
        if short <= 0 or not open_.any():
            break
        q = np.where(open_, world.user_activity, 0.0)
        counts += rng.multinomial(short, q / q.sum())
    return np.minimum(counts, cap)


def _choose(
    rng: np.random.Generator,
    world: World,
    strength: float,
    users: np.ndarray,
    times: np.ndarray,
    eligible: np.ndarray,
    release: np.ndarray,
    cumpop: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Item index and taste·style affinity of one draw per (user, time) row."""
    n = len(users)
    half = CANDIDATES // 2
    n_rel = np.searchsorted(release, times, side="right").clip(1)  # (n,) released prefix size
    total = cumpop[n_rel - 1]  # (n,)
    by_pop = np.searchsorted(cumpop, rng.random((n, half)) * total[:, None], side="right")
    by_pop = np.minimum(by_pop, n_rel[:, None] - 1)
    uniform = (rng.random((n, half)) * n_rel[:, None]).astype(np.int64)
    cand = np.concatenate([by_pop, uniform], axis=1)  # (n, K) positions in `eligible`
    items = eligible[cand]  # (n, K)
    aff = np.einsum("nd,nkd->nk", world.user_taste[users], world.item_style[items])  # (n, K)
    pop = world.item_pop[items]
    age_days = (times[:, None] - world.item_release_us[items]) / DAY_US
    recency = 1.0 + 3.0 * np.exp(-np.maximum(age_days, 0.0) / 30.0)  # new releases get a boost
    proposal = 0.5 * pop / total[:, None] + 0.5 / n_rel[:, None]
    logw = strength * aff + np.log(pop * recency) - np.log(proposal)
    pick = np.argmax(logw + rng.gumbel(size=logw.shape), axis=1)
    rows = np.arange(n)
    return items[rows, pick], aff[rows, pick].astype(np.float32)


def sample_interactions(
    cfg: SynthConfig, world: World, rng: np.random.Generator
) -> tuple[pl.DataFrame, np.ndarray]:
    """Interaction rows (review_text still null) sorted by user and time, plus item indices.

    Returns:
        The frame (canonical columns, review_text null) and the item index of each row.
    """
    counts = user_counts(cfg, world, rng)
    eligible = np.flatnonzero(~world.cold)  # ascending = release order
    release = world.item_release_us[eligible]
    cumpop = np.cumsum(world.item_pop[eligible])

    def draw(users: np.ndarray) -> pl.DataFrame:
        created = np.maximum(world.user_created_us[users], world.start_us)
        times = created + (rng.random(len(users)) * (world.end_us - created)).astype(np.int64)
        items = np.empty(len(users), dtype=np.int64)
        aff = np.empty(len(users), dtype=np.float32)
        for lo in range(0, len(users), CHUNK):
            sl = slice(lo, lo + CHUNK)
            items[sl], aff[sl] = _choose(
                rng, world, cfg.preference_strength, users[sl], times[sl], eligible, release, cumpop
            )
        return pl.DataFrame(
            {"u": users, "i": items, "t": times, "aff": aff, "key": rng.random(len(users))}
        )

    # Heavy users with focused tastes redraw items they already have; repeated pairs are
    # dropped and the shortfall redrawn with a growing oversampling factor.
    frame = pl.DataFrame(
        schema={"u": pl.Int64, "i": pl.Int64, "t": pl.Int64, "aff": pl.Float32, "key": pl.Float64}
    )
    deficit = counts.copy()
    for factor in (OVERSAMPLE, 2.0, 4.0, 8.0):
        need = np.flatnonzero(deficit > 0)
        if not len(need):
            break
        n_draws = np.ceil(deficit[need] * factor).astype(np.int64) + 1
        frame = pl.concat([frame, draw(np.repeat(need, n_draws))])
        frame = frame.unique(subset=["u", "i"], keep="first", maintain_order=True)
        have = np.bincount(frame["u"].to_numpy(), minlength=len(counts))
        deficit = counts - have
    # Keep a random `counts[u]` of each user's rows (random, not earliest, so histories still
    # span the whole window).
    frame = (
        frame.with_columns(
            pl.col("key").rank("ordinal").over("u").alias("r"),
            pl.Series("cap", counts[frame["u"].to_numpy()]),
        )
        .filter(pl.col("r") <= pl.col("cap"))
        .sort("u", "t")
    )
    n = frame.height
    item_idx = frame["i"].to_numpy()
    aff = frame["aff"].to_numpy()
    z = (aff - aff.mean()) / max(float(aff.std()), 1e-6)
    quality = world.item_quality[item_idx]
    raw = 3.4 + 1.2 * z + 0.3 * quality + 0.6 * rng.standard_normal(n)
    rating = np.clip(np.rint(raw), 1, 5).astype(np.float32)
    watch = 1.0 / (1.0 + np.exp(-(2.5 * z + 0.8))) + 0.1 * rng.standard_normal(n)
    kind = rng.choice(3, size=n, p=KIND_P)
    out = pl.DataFrame(
        {
            "user_id": world.user_ids[frame["u"].to_numpy()],
            "item_id": world.item_ids[item_idx],
            "timestamp": pl.Series(frame["t"].to_numpy()).cast(pl.Datetime("us")),
            "kind": pl.Series(["view", "rating", "review"]).gather(kind),
            "rating": np.where(kind == 0, np.nan, rating).astype(np.float32),
            "review_text": pl.repeat(None, n, dtype=pl.String, eager=True),
            "watch_fraction": np.clip(watch, 0.02, 1.0).astype(np.float32),
        }
    ).with_columns(
        pl.col("timestamp").dt.replace_time_zone("UTC").cast(TIMESTAMP),
        pl.col("rating").fill_nan(None),
    )
    return out, item_idx
