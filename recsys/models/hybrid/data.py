"""Ordered per-user histories, training windows and the temporal validation split.

History tokens are *positive* interactions only (``positive_weight > 0``). A rating below 3.5 is
left out of the input as well as the targets: a token carries no rating, so a disliked item in
the history would pull the user vector towards it. Disliked items still count as *seen*, so they
are excluded from rankings (see ``seen_matrix``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.interactions import IdVocab, positives, seen_pairs, user_item_matrix

PAD = -1  # token id of padding (right side of a window)
BOS = -2  # token id of the "start of history" token


@dataclass
class Sequences:
    """Each user's positive items, oldest first, as CSR-like flat arrays."""

    indptr: np.ndarray  # (n_users + 1,) int64
    items: np.ndarray  # (nnz,) int64 dense item index
    weights: np.ndarray  # (nnz,) float32 positive weight
    times: np.ndarray  # (nnz,) int64 microseconds since epoch

    def row(self, user: int) -> np.ndarray:
        return self.items[self.indptr[user] : self.indptr[user + 1]]

    @property
    def n_users(self) -> int:
        return len(self.indptr) - 1


def build_sequences(interactions: pl.DataFrame, users: IdVocab, items: IdVocab) -> Sequences:
    """Ordered positive histories of every user in ``users`` (unknown ids dropped)."""
    pos = positives(interactions)
    u = users.index(pos["user_id"].to_numpy())
    i = items.index(pos["item_id"].to_numpy())
    t = pos["timestamp"].dt.epoch("us").to_numpy().astype(np.int64)
    w = pos["weight"].to_numpy().astype(np.float32)
    keep = (u >= 0) & (i >= 0)
    u, i, t, w = u[keep], i[keep], t[keep], w[keep]
    order = np.lexsort((i, t, u))  # by user, then time, ties by item id (deterministic)
    u, i, t, w = u[order], i[order], t[order], w[order]
    indptr = np.zeros(len(users) + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=len(users)), out=indptr[1:])
    return Sequences(indptr, i.astype(np.int64), w, t)


@dataclass
class Windows:
    """Training samples: ``tokens[:, t]`` is read to predict ``targets[:, t]``."""

    users: np.ndarray  # (W,) int64
    tokens: np.ndarray  # (W, T) int64 item index / BOS / PAD
    targets: np.ndarray  # (W, T) int64 item index / PAD
    weights: np.ndarray  # (W, T) float32, 0 at padding
    last_time: np.ndarray  # (W,) int64 newest target time in the window

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, rows: np.ndarray) -> Windows:
        return Windows(
            *(
                a[rows]
                for a in (self.users, self.tokens, self.targets, self.weights, self.last_time)
            )
        )


def make_windows(seqs: Sequences, max_len: int) -> Windows:
    """Cut each ``[BOS, i1, ..., iL]`` into non-overlapping chunks of ``max_len`` predictions."""
    users, tokens, targets, weights, last = [], [], [], [], []
    for user in range(seqs.n_users):
        lo, hi = seqs.indptr[user], seqs.indptr[user + 1]
        if hi == lo:
            continue
        toks = np.concatenate([[BOS], seqs.items[lo:hi]])
        for a in range(0, hi - lo, max_len):
            n = min(max_len, hi - lo - a)
            tok = np.full(max_len, PAD, np.int64)
            tgt = np.full(max_len, PAD, np.int64)
            wt = np.zeros(max_len, np.float32)
            tok[:n] = toks[a : a + n]
            tgt[:n] = toks[a + 1 : a + n + 1]
            wt[:n] = seqs.weights[lo + a : lo + a + n]
            users.append(user)
            tokens.append(tok)
            targets.append(tgt)
            weights.append(wt)
            last.append(seqs.times[lo + a + n - 1])
    if not users:
        empty = np.zeros((0, max_len), np.int64)
        return Windows(
            np.zeros(0, np.int64), empty, empty, empty.astype(np.float32), np.zeros(0, np.int64)
        )
    return Windows(
        np.asarray(users, np.int64),
        np.stack(tokens),
        np.stack(targets),
        np.stack(weights),
        np.asarray(last, np.int64),
    )


def history_tokens(histories: list[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Encoder input for inference: the last ``max_len`` tokens of ``[BOS] + history``.

    Returns (tokens (B, max_len) right-padded, position of the last real token (B,)).
    """
    tokens = np.full((len(histories), max_len), PAD, np.int64)
    last = np.zeros(len(histories), np.int64)
    for row, hist in enumerate(histories):
        toks = np.concatenate([[BOS], np.asarray(hist, np.int64)])[-max_len:]
        tokens[row, : len(toks)] = toks
        last[row] = len(toks) - 1
    return tokens, last


def temporal_split(
    interactions: pl.DataFrame, last_n: int, min_history: int, frac: float = 0.0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Hold out each user's ``max(last_n, floor(frac * n))`` most recent positives (users with
    ``min_history``+ positives only, and always leaving them at least one in train).

    Returns (train interactions, held-out interactions); every other interaction of the user,
    including low ratings, stays in train so it is both context and excluded from rankings.
    """
    pos = (
        positives(interactions)
        .sort(["user_id", "timestamp", "item_id"], descending=[False, True, True])
        .with_columns(
            pl.int_range(pl.len()).over("user_id").alias("_recency"),  # 0 = most recent
            pl.len().over("user_id").alias("_n"),
        )
    )
    n_held = pl.max_horizontal(pl.lit(last_n), (pl.col("_n") * frac).floor().cast(pl.Int64))
    n_held = pl.min_horizontal(n_held, pl.col("_n") - 1)
    held = pos.filter((pl.col("_recency") < n_held) & (pl.col("_n") >= min_history)).select(
        "user_id", "item_id"
    )
    train = interactions.join(held, on=["user_id", "item_id"], how="anti")
    valid = interactions.join(held, on=["user_id", "item_id"], how="semi")
    return train, valid


def seen_matrix(interactions: pl.DataFrame, users: IdVocab, items: IdVocab) -> sp.csr_matrix:
    """(n_users, n_items) CSR of everything a user interacted with, liked or not."""
    return user_item_matrix(seen_pairs(interactions), users, items, weight=None)
