"""Full-ranking evaluation of one Recommender on one (fit frame, target frame) pair.

The model ranks the whole catalog for every evaluated user; items the user interacted with in
the fit frame are excluded; relevance = the user's positives in the target frame
(``recsys.core.interactions.positive_weight() > 0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core import metrics as M
from recsys.core.interactions import IdVocab, positives, seen_pairs, user_item_matrix
from recsys.models.base import Recommender, top_k


@dataclass
class EvalData:
    """Everything needed to score a set of users, aligned row by row."""

    item_vocab: IdVocab
    user_ids: np.ndarray  # (U,) int64 evaluated users
    histories: sp.csr_matrix  # (U, n_items) fit-frame positives (weights)
    exclude: sp.csr_matrix  # (U, n_items) every fit-frame interaction
    relevant: sp.csr_matrix  # (U, n_items) target positives
    history_len: np.ndarray  # (U,) number of fit-frame interactions
    item_counts: np.ndarray  # (n_items,) users with a positive in the fit frame
    n_fit_users: int


def prepare(
    fit: pl.DataFrame,
    target: pl.DataFrame,
    item_vocab: IdVocab,
    candidates: np.ndarray | None = None,
) -> EvalData:
    """Build histories/exclusions from ``fit`` and relevance from ``target`` positives.

    ``candidates`` (item ids) restricts ranking to those items (everything else is excluded),
    e.g. only the new items in a cold-start variant; None = the whole catalog.
    """
    target_pos = positives(target)
    target_pos = target_pos.filter(pl.col("item_id").is_in(item_vocab.ids.tolist()))
    users = IdVocab.from_ids(target_pos["user_id"])
    fit_pos = positives(fit)
    seen = seen_pairs(fit)
    relevant = user_item_matrix(target_pos, users, item_vocab, weight=None)
    exclude = user_item_matrix(seen, users, item_vocab, weight=None)
    if candidates is not None:
        outside = np.ones(len(item_vocab), bool)
        outside[item_vocab.index(candidates)[item_vocab.index(candidates) >= 0]] = False
        block = sp.csr_matrix(np.broadcast_to(outside, (len(users), len(item_vocab))))
        exclude = ((exclude + block) > 0).astype(np.float32).tocsr()
    all_fit_users = IdVocab.from_ids(fit_pos["user_id"])
    counts = np.asarray(
        user_item_matrix(fit_pos, all_fit_users, item_vocab, weight=None).sum(0)
    ).ravel()
    return EvalData(
        item_vocab=item_vocab,
        user_ids=users.ids,
        histories=user_item_matrix(fit_pos, users, item_vocab, weight="weight"),
        exclude=exclude,
        relevant=relevant,
        history_len=np.diff(user_item_matrix(seen, users, item_vocab, weight=None).indptr),
        item_counts=counts,
        n_fit_users=len(all_fit_users),
    )


def rank(model: Recommender, data: EvalData, k: int, batch: int = 512) -> np.ndarray:
    """(U, k) top item indices per user over the whole catalog, fit items excluded."""
    user_idx = model.user_vocab.index(data.user_ids)
    out = []
    for start in range(0, len(data.user_ids), batch):
        stop = min(start + batch, len(data.user_ids))
        scores = model.score(user_idx[start:stop], data.histories[start:stop])  # (B, n_items)
        out.append(top_k(scores, k, data.exclude[start:stop]))
    return np.concatenate(out) if out else np.zeros((0, k), np.int64)


@dataclass
class ModelResult:
    """Per-user metric arrays, their summary with CIs and list-level metrics of one model."""

    name: str
    per_user: dict[str, np.ndarray]
    summary: dict[str, dict[str, float]]
    beyond: dict[str, float | None]
    top: np.ndarray = field(repr=False)
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def mean(self, metric: str) -> float:
        return self.summary[metric]["mean"]


def evaluate(
    model: Recommender,
    data: EvalData,
    name: str,
    ks: tuple[int, ...] = (10, 20),
    item_vectors: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> ModelResult:
    """Rank, then compute accuracy@K with bootstrap CIs and beyond-accuracy metrics at max(K)."""
    return score_top(rank(model, data, max(ks)), data, name, ks, item_vectors, n_boot, seed)


def score_top(
    top: np.ndarray,
    data: EvalData,
    name: str,
    ks: tuple[int, ...] = (10, 20),
    item_vectors: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> ModelResult:
    """Metrics of ranked lists ``top`` (U, max(ks)) item indices, aligned with ``data``'s users.

    Lists shorter than max(ks) are padded with -1 (never relevant).
    """
    kmax = max(ks)
    per_user = M.accuracy(top, data.relevant, ks)
    # list-level metrics need an item in every slot: an empty slot (a pipeline that had fewer
    # than K candidates left) repeats its list's first item there (only lowers coverage)
    top = np.where(top >= 0, top, np.maximum(top[:, :1], 0))
    n_items = len(data.item_vocab)
    beyond = {
        f"coverage@{kmax}": M.coverage(top, n_items),
        f"novelty@{kmax}": M.novelty(top, data.item_counts, data.n_fit_users),
        f"popularity_bias@{kmax}": M.popularity_bias(top, data.item_counts),
        f"diversity@{kmax}": M.intra_list_diversity(top, item_vectors),
    }
    return ModelResult(name, per_user, M.summarize(per_user, n_boot, seed), beyond, top)
