"""Stage 1 of the pipeline: everything fitted on one interactions frame that sources and
features read (EASE, item-kNN, ALS, the hybrid tower, item facts, stored histories).

Content vectors are not fitted here: they come from the feature store as the frame's cut-off
saw them (``ContentSpace``), and are kept with the run so serving and evaluation read the same
arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.artifacts import load_arrays, save_arrays
from recsys.core.histories import Histories
from recsys.core.interactions import IdVocab, positives
from recsys.models.als import ALS
from recsys.models.ease import EASE
from recsys.models.hybrid import HybridRecommender, update_hybrid
from recsys.models.hybrid.config import HybridConfig
from recsys.models.itemknn import ItemKNN
from recsys.ranking.config import PipelineConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContentSpace:
    """One modality's L2-normalised item vectors in the pipeline's item order."""

    matrix: np.ndarray  # (n, d) float32, zero rows where absent
    present: np.ndarray  # (n,) bool

    @classmethod
    def from_vectors(cls, matrix: np.ndarray, present: np.ndarray) -> ContentSpace:
        # one copy, normalised in place: at 1M x 1,280-d each temporary is 5 GB
        unit = np.array(matrix, np.float32, copy=True)
        norms = np.linalg.norm(unit, axis=1)  # (n,)
        has = norms > 0  # False for zero and non-finite rows: those become zeros
        unit[~has] = 0.0
        np.divide(unit, np.where(has, norms, 1.0)[:, None], out=unit)
        return cls(unit, np.asarray(present, bool) & has)


@dataclass(frozen=True)
class ItemFacts:
    """Per-item numbers known at the frame's end (the features that need no user)."""

    likes: np.ndarray  # (n,) users with a like in the frame
    recent_likes: np.ndarray  # (n,) likes in the last ``recent_days`` of the frame
    age_days: np.ndarray  # (n,) days from the item's first interaction to the frame's end; NaN
    year: np.ndarray  # (n,) release year, NaN when unknown
    mean_rating: np.ndarray  # (n,) NaN without ratings
    n_ratings: np.ndarray  # (n,)
    genres: sp.csr_matrix  # (n, G) binary

    @classmethod
    def build(
        cls, frame: pl.DataFrame, items: pl.DataFrame, vocab: IdVocab, recent_days: float
    ) -> ItemFacts:
        n = len(vocab)

        def dense(df: pl.DataFrame, col: str, fill: float = 0.0) -> np.ndarray:
            out = np.full(n, fill, np.float32)
            idx = vocab.index(df["item_id"].to_numpy())
            keep = idx >= 0
            out[idx[keep]] = df[col].to_numpy().astype(np.float32)[keep]
            return out

        pos = positives(frame)
        likes = dense(pos.group_by("item_id").agg(c=pl.len()), "c")
        end: datetime | None = frame["timestamp"].max() if frame.height else None  # type: ignore[assignment]
        recent = pos
        if end is not None:
            recent = pos.filter(pl.col("timestamp") >= end - timedelta(days=recent_days))
        first = frame.group_by("item_id").agg(t=pl.col("timestamp").min())
        if end is not None:
            first = first.with_columns(age=(pl.lit(end) - pl.col("t")).dt.total_seconds() / 86400)
        else:
            first = first.with_columns(age=pl.lit(0.0))
        rated = frame.filter(pl.col("rating").is_not_null()).group_by("item_id")
        ratings = rated.agg(m=pl.col("rating").mean(), c=pl.len())
        meta = items.select("item_id", "year", "genres").filter(
            pl.col("item_id").is_in(vocab.ids.tolist())
        )
        year = dense(meta.with_columns(pl.col("year").cast(pl.Float32)), "year", np.nan)
        return cls(
            likes=likes,
            recent_likes=dense(recent.group_by("item_id").agg(c=pl.len()), "c"),
            age_days=dense(first, "age", np.nan),
            year=np.where(np.isfinite(year), year, np.nan).astype(np.float32),
            mean_rating=dense(ratings, "m", np.nan),
            n_ratings=dense(ratings, "c"),
            genres=_genre_matrix(meta, vocab),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        g = self.genres.tocsr()
        return {
            "likes": self.likes,
            "recent_likes": self.recent_likes,
            "age_days": self.age_days,
            "year": self.year,
            "mean_rating": self.mean_rating,
            "n_ratings": self.n_ratings,
            "genres_indptr": g.indptr,
            "genres_indices": g.indices,
            "genres_shape": np.asarray(g.shape),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> ItemFacts:
        shape = tuple(int(x) for x in a["genres_shape"])
        data = np.ones(len(a["genres_indices"]), np.float32)
        genres = sp.csr_matrix((data, a["genres_indices"], a["genres_indptr"]), shape=shape)
        names = ("likes", "recent_likes", "age_days", "year", "mean_rating", "n_ratings")
        return cls(**{k: a[k] for k in names}, genres=genres)


def _genre_matrix(meta: pl.DataFrame, vocab: IdVocab) -> sp.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    names: dict[str, int] = {}
    idx = vocab.index(meta["item_id"].to_numpy())
    for i, genres in zip(idx, meta["genres"].to_list(), strict=True):
        for g in genres or []:
            rows.append(i)
            cols.append(names.setdefault(str(g).lower(), len(names)))
    data = np.ones(len(rows), np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(vocab), max(len(names), 1)))


@dataclass
class Stage1:
    """The fitted retrieval side of one pipeline, all in ``vocab`` order."""

    vocab: IdVocab
    histories: Histories
    facts: ItemFacts
    ease: EASE | None  # None: more items than ``PipelineConfig.ease_max_items``
    itemknn: ItemKNN
    als: ALS
    content: dict[str, ContentSpace]
    tower: HybridRecommender | None
    # (users, dim+1) tower vector of each ``tower.user_vocab`` user's stored history: a
    # request that brings nothing new reuses it instead of running the transformer
    tower_users: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.tower is not None and self.tower_users is None:
            self.tower_users = known_user_vectors(self.tower)

    def save(self, directory: Path) -> None:
        arrays = {"item_ids": self.vocab.ids, **self.facts.arrays(), **_histories(self.histories)}
        for m, space in self.content.items():
            arrays[f"content_{m}"] = space.matrix
            arrays[f"present_{m}"] = space.present
        if self.tower_users is not None:
            arrays["tower_users"] = self.tower_users
        save_arrays(directory, {"name": "stage1", "content": sorted(self.content)}, **arrays)
        if self.ease is not None:
            self.ease.save(directory / "ease")
        self.itemknn.save(directory / "itemknn")
        self.als.save(directory / "als")
        if self.tower is not None:
            self.tower.save(directory / "tower")

    @classmethod
    def load(cls, directory: Path) -> Stage1:
        """Runs saved before ``tower_users`` existed get them computed here, once."""
        manifest, a = load_arrays(directory)
        content = {
            m: ContentSpace(a[f"content_{m}"], a[f"present_{m}"]) for m in manifest["content"]
        }
        tower_dir, ease_dir = directory / "tower", directory / "ease"
        return cls(
            vocab=IdVocab(a["item_ids"]),
            histories=_histories_from(a),
            facts=ItemFacts.from_arrays(a),
            ease=EASE.load(ease_dir) if ease_dir.exists() else None,
            itemknn=ItemKNN.load(directory / "itemknn"),
            als=ALS.load(directory / "als"),
            content=content,
            tower=HybridRecommender.load(tower_dir) if tower_dir.exists() else None,
            tower_users=a.get("tower_users"),
        )


def known_user_vectors(tower: HybridRecommender) -> np.ndarray:
    """(users, dim+1) float32: every known user's tower vector over their stored history."""
    users = np.arange(len(tower.user_vocab), dtype=np.int64)
    return np.asarray(tower.encode_users(users, [tower.history(int(u)) for u in users]), np.float32)


def _histories(h: Histories) -> dict[str, np.ndarray]:
    users = np.asarray(sorted(h.seen), np.int64)
    liked = [h.liked.get(int(u), np.zeros(0, np.int64)) for u in users]
    seen = [h.seen[int(u)] for u in users]
    return {
        "hist_users": users,
        "hist_liked_indptr": np.cumsum([0] + [len(x) for x in liked]).astype(np.int64),
        "hist_liked": np.concatenate(liked or [np.zeros(0, np.int64)]).astype(np.int64),
        "hist_seen_indptr": np.cumsum([0] + [len(x) for x in seen]).astype(np.int64),
        "hist_seen": np.concatenate(seen or [np.zeros(0, np.int64)]).astype(np.int64),
    }


def _histories_from(a: dict[str, np.ndarray]) -> Histories:
    def rows(name: str) -> dict[int, np.ndarray]:
        ptr, values = a[f"hist_{name}_indptr"], a[f"hist_{name}"]
        return {int(u): values[ptr[i] : ptr[i + 1]] for i, u in enumerate(a["hist_users"])}

    liked = {u: v for u, v in rows("liked").items() if len(v)}
    return Histories(liked, rows("seen"))


def fit_stage1(
    frame: pl.DataFrame,
    items: pl.DataFrame,
    vocab: IdVocab,
    content: dict[str, ContentSpace],
    cfg: PipelineConfig,
    ease_lambda: float,
    log_fn: Callable[[str], None] = log.info,
    tower_init: HybridRecommender | None = None,
) -> Stage1:
    """Fit every stage-1 model on ``frame`` (and nothing else).

    ``tower_init`` warm-starts the tower (trained on the interactions newer than it saw).
    """
    tower = None
    if cfg.tower and tower_init is not None:
        tower = update_hybrid(
            tower_init, frame, vocab.ids, _or_zeros(content, len(vocab)), log=log_fn
        )
    elif cfg.tower:
        tower = HybridRecommender.fit(
            frame,
            vocab,
            vectors=tower_content(content, len(vocab)),
            config=HybridConfig.from_dict(
                {**HybridConfig().to_dict(), "rescore": False, **cfg.tower_overrides}
            ),
            log=log_fn,
        )
    return Stage1(
        vocab=vocab,
        histories=Histories.from_interactions(frame, vocab),
        facts=ItemFacts.build(frame, items, vocab, cfg.recent_days),
        ease=EASE.fit(frame, vocab, lam=ease_lambda) if ease_fits(frame, cfg, log_fn) else None,
        itemknn=ItemKNN.fit(frame, vocab, neighbours=cfg.knn_neighbours),
        als=ALS.fit(frame, vocab, factors=cfg.als_factors, seed=cfg.seed),
        content=content,
        tower=tower,
    )


def ease_fits(frame: pl.DataFrame, cfg: PipelineConfig, log_fn: Callable[[str], None]) -> bool:
    """Whether EASE is fitted on ``frame``: at most ``cfg.ease_max_items`` items with likes."""
    m = positives(frame)["item_id"].n_unique()
    if m <= cfg.ease_max_items:
        return True
    log_fn(
        f"pipeline: EASE skipped: {m:,} items with likes > ease_max_items={cfg.ease_max_items:,}"
        " (its closed form inverts an m x m matrix); item-kNN and ALS stay"
    )
    return False


def tower_content(content: dict[str, ContentSpace], n: int) -> np.ndarray | None:
    """The tower's content input: every modality's unit vectors side by side (None: IDs only)."""
    if not content:
        return None
    return np.concatenate([content[m].matrix for m in sorted(content)], axis=1).reshape(n, -1)


def _or_zeros(content: dict[str, ContentSpace], n: int) -> np.ndarray:
    vectors = tower_content(content, n)
    return vectors if vectors is not None else np.zeros((n, 1), np.float32)
