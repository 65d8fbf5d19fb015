"""The latent world behind the synthetic catalog: genres, item styles, user tastes, popularity.

Everything observable (text, posters, trailers, interactions) is rendered from these latents, so
tests and evaluations can check known answers against ``truth.npz``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from recsys.datasets.synthetic.config import SynthConfig

GENRES: tuple[str, ...] = (
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Horror",
    "Romance",
    "Sci-Fi",
    "Thriller",
)
# Drama and comedy dominate real catalogs; documentaries and animation are niches.
GENRE_WEIGHTS = np.array([10, 6, 4, 12, 7, 3, 14, 5, 6, 7, 6, 8], dtype=np.float64)

DAY_US = 86_400 * 1_000_000
BACK_CATALOG = 0.6  # share of items released before the interaction window opens


@dataclass
class World:
    """Latent variables; item arrays are ordered by release time (item_id = index + 1)."""

    centroids: np.ndarray  # (G, d) unit genre centroids
    item_ids: np.ndarray  # (n_items,) int64
    item_genre: np.ndarray  # (n_items,) int64 primary genre index
    item_extra_genres: np.ndarray  # (n_items, 2) int64 secondary genre indices, -1 = none
    item_style: np.ndarray  # (n_items, d) float32 unit style vectors
    item_pop: np.ndarray  # (n_items,) float64 > 0 popularity (long tail)
    item_quality: np.ndarray  # (n_items,) float32, shifts ratings; correlated with popularity
    item_release_us: np.ndarray  # (n_items,) int64 epoch microseconds, ascending
    item_year: np.ndarray  # (n_items,) int32
    cold: np.ndarray  # (n_items,) bool: never interacted
    user_ids: np.ndarray  # (n_users,) int64
    user_mix: np.ndarray  # (n_users, G) genre mixture of each user's taste
    user_taste: np.ndarray  # (n_users, d) float32 unit taste vectors
    user_activity: np.ndarray  # (n_users,) float64 relative activity
    user_created_us: np.ndarray  # (n_users,) int64
    start_us: int
    end_us: int


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-9)


def build_world(cfg: SynthConfig, rng: np.random.Generator) -> World:
    """Sample all latents for ``cfg`` (vectorised; 1M items take about a second)."""
    n_genres, d, n, n_users = len(GENRES), cfg.dim, cfg.items, cfg.users
    centroids = _unit(rng.standard_normal((n_genres, d)))  # (G, d)

    genre = rng.choice(n_genres, size=n, p=GENRE_WEIGHTS / GENRE_WEIGHTS.sum())
    # Noise comparable to the centroid: items of one genre differ, but stay nearer their centroid.
    style = _unit(centroids[genre] + rng.standard_normal((n, d)) / np.sqrt(d))  # (n, d)
    sims = style @ centroids.T  # (n, G)
    sims[np.arange(n), genre] = -np.inf
    extra = np.argsort(-sims, axis=1)[:, :2]
    extra[:, 0] = np.where(rng.random(n) < 0.55, extra[:, 0], -1)
    extra[:, 1] = np.where((extra[:, 0] >= 0) & (rng.random(n) < 0.3), extra[:, 1], -1)

    z_pop = rng.standard_normal(n)
    pop = np.exp(cfg.popularity_skew * z_pop)
    quality = (0.5 * z_pop + np.sqrt(0.75) * rng.standard_normal(n)).astype(np.float32)

    start_dt = datetime.fromisoformat(cfg.start).replace(tzinfo=UTC)
    start = int(start_dt.timestamp()) * 1_000_000
    end = start + cfg.days * DAY_US
    # Back catalog years skew recent (exponential age); new items release through the window,
    # stopping a month before its end so the newest ones still get a few views.
    back = rng.random(n) < BACK_CATALOG
    age_years = np.minimum(rng.exponential(12.0, n), 90.0)
    back_release = start - ((age_years + 0.01) * 365.25 * DAY_US).astype(np.int64)
    new_release = start + (rng.random(n) * (end - start - 30 * DAY_US)).astype(np.int64)
    release = np.where(back, back_release, new_release)
    order = np.argsort(release, kind="stable")
    genre, style, extra = genre[order], style[order], extra[order]
    pop, quality, release = pop[order], quality[order], release[order]
    year = (1970 + release / (365.2425 * DAY_US)).astype(np.int32)

    # Cold items: mostly the newest releases (nobody has found them yet), some random ones.
    n_cold = int(round(cfg.cold_fraction * n))
    n_newest = n_cold // 2
    cold = np.zeros(n, dtype=bool)
    cold[n - n_newest :] = True
    rest = rng.permutation(n - n_newest)[: n_cold - n_newest]
    cold[rest] = True

    # Tastes are mixtures over a few genres (sparse Dirichlet) plus a personal twist.
    mix = rng.dirichlet(np.full(n_genres, 0.3), size=n_users)  # (U, G)
    taste = _unit(mix @ centroids + 0.6 * rng.standard_normal((n_users, d)) / np.sqrt(d))
    activity = np.exp(1.0 * rng.standard_normal(n_users))
    # 40% of users exist when the window opens; the rest join during its first 90%.
    early = rng.random(n_users) < 0.4
    joined = start + (rng.random(n_users) * 0.9 * (end - start)).astype(np.int64)
    before = start - (rng.random(n_users) * 365 * DAY_US).astype(np.int64)
    created = np.where(early, before, joined)

    return World(
        centroids=centroids.astype(np.float32),
        item_ids=np.arange(1, n + 1, dtype=np.int64),
        item_genre=genre.astype(np.int64),
        item_extra_genres=extra.astype(np.int64),
        item_style=style.astype(np.float32),
        item_pop=pop,
        item_quality=quality,
        item_release_us=release.astype(np.int64),
        item_year=year,
        cold=cold,
        user_ids=np.arange(1, n_users + 1, dtype=np.int64),
        user_mix=mix.astype(np.float32),
        user_taste=taste.astype(np.float32),
        user_activity=activity,
        user_created_us=created.astype(np.int64),
        start_us=start,
        end_us=end,
    )
