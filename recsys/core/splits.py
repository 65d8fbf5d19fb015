"""Deterministic offline splits of the interactions table.

Every split returns a :class:`Split` of ``train``/``valid``/``test`` frames (same columns as the
input) plus a JSON-able description. Rules shared by all of them:

* Order inside a user is ``(timestamp, item_id, kind)`` so ties break the same way every run.
* A (user, item) pair never appears in two parts: ``valid`` drops pairs already in ``train`` and
  ``test`` drops pairs already in ``train`` or ``valid`` (a re-watch is not a new discovery, and
  models are refitted on train+valid before the test).
* ``valid``/``test`` keep only users that have at least one interaction in the part(s) before
  them, except in the cold-user split, whose point is users without history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

ORDER = ["user_id", "timestamp", "item_id", "kind"]


@dataclass(frozen=True)
class Split:
    """Train/valid/test interactions and how they were made."""

    train: pl.DataFrame
    valid: pl.DataFrame
    test: pl.DataFrame
    description: dict = field(default_factory=dict)

    def train_valid(self) -> pl.DataFrame:
        """Train + valid: what models are refitted on before the test."""
        return pl.concat([self.train, self.valid], how="vertical_relaxed")

    def counts(self) -> dict:
        return {
            part: {
                "interactions": df.height,
                "users": df["user_id"].n_unique(),
                "items": df["item_id"].n_unique(),
            }
            for part, df in (("train", self.train), ("valid", self.valid), ("test", self.test))
        }


def _sorted(interactions: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in ORDER if c in interactions.columns]
    return interactions.sort(cols, maintain_order=True)


def _drop_pairs(df: pl.DataFrame, *seen: pl.DataFrame) -> pl.DataFrame:
    for other in seen:
        df = df.join(
            other.select("user_id", "item_id").unique(), on=["user_id", "item_id"], how="anti"
        )
    return df


def _known_users(df: pl.DataFrame, *before: pl.DataFrame) -> pl.DataFrame:
    users = pl.concat([b.select("user_id") for b in before]).unique()
    return df.join(users, on="user_id", how="semi")


def _finish(train, valid, test, description: dict, keep_users: bool = True) -> Split:
    valid = _drop_pairs(valid, train)
    test = _drop_pairs(test, train, valid)
    if keep_users:
        valid = _known_users(valid, train)
        test = _known_users(test, train, valid)
    split = Split(_sorted(train), _sorted(valid), _sorted(test), description)
    return Split(split.train, split.valid, split.test, {**description, "counts": split.counts()})


def _quantile_time(times: pl.Series, q: float) -> datetime:
    ts = times.sort()
    return ts[min(int(q * len(ts)), len(ts) - 1)]


def global_temporal(
    interactions: pl.DataFrame, test_frac: float = 0.2, valid_frac: float = 0.1
) -> Split:
    """Two global cut-offs: train < T_valid <= valid < T_test <= test.

    T_test is the (1 - test_frac) quantile of all timestamps, T_valid the
    (1 - test_frac - valid_frac) quantile. Test keeps only users seen before T_test.
    """
    _check_fracs(test_frac, valid_frac)
    t_test = _quantile_time(interactions["timestamp"], 1.0 - test_frac)
    t_valid = _quantile_time(interactions["timestamp"], 1.0 - test_frac - valid_frac)
    ts = pl.col("timestamp")
    train = interactions.filter(ts < t_valid)
    valid = interactions.filter((ts >= t_valid) & (ts < t_test))
    test = interactions.filter(ts >= t_test)
    return _finish(
        train,
        valid,
        test,
        {
            "name": "global_temporal",
            "rule": "train < T_valid <= valid < T_test <= test; test users seen before T_test",
            "T_valid": str(t_valid),
            "T_test": str(t_test),
            "test_frac": test_frac,
            "valid_frac": valid_frac,
        },
    )


def per_user_temporal(
    interactions: pl.DataFrame,
    test_frac: float = 0.2,
    valid_frac: float = 0.1,
    min_interactions: int = 3,
) -> Split:
    """Each user's last ``test_frac`` (by time) is test, the ``valid_frac`` before it valid.

    Counts round to nearest with at least one row each; users with fewer than
    ``min_interactions`` rows stay entirely in train.
    """
    _check_fracs(test_frac, valid_frac)
    df = _sorted(interactions).with_columns(
        pos=pl.int_range(pl.len()).over("user_id"), n=pl.len().over("user_id")
    )
    n = pl.col("n").cast(pl.Float64)
    n_test = pl.max_horizontal((n * test_frac).round(), pl.lit(1.0))
    n_valid = pl.max_horizontal((n * valid_frac).round(), pl.lit(1.0))
    eligible = pl.col("n") >= min_interactions
    from_end = pl.col("n") - pl.col("pos")  # 1 = last interaction
    is_test = eligible & (from_end <= n_test)
    is_valid = eligible & ~is_test & (from_end <= n_test + n_valid)
    df = df.with_columns(part=pl.when(is_test).then(2).when(is_valid).then(1).otherwise(0))
    return _parts(
        df,
        interactions.columns,
        {
            "name": "per_user_temporal",
            "rule": f"per user: last {test_frac:.0%} by time = test, the {valid_frac:.0%} "
            "before it = valid",
            "test_frac": test_frac,
            "valid_frac": valid_frac,
            "min_interactions": min_interactions,
        },
    )


def leave_last_out(interactions: pl.DataFrame, min_interactions: int = 3) -> Split:
    """Each user's last interaction is test, the one before it valid."""
    df = _sorted(interactions).with_columns(
        pos=pl.int_range(pl.len()).over("user_id"), n=pl.len().over("user_id")
    )
    from_end = pl.col("n") - pl.col("pos")
    eligible = pl.col("n") >= min_interactions
    df = df.with_columns(
        part=pl.when(eligible & (from_end == 1))
        .then(2)
        .when(eligible & (from_end == 2))
        .then(1)
        .otherwise(0)
    )
    return _parts(
        df,
        interactions.columns,
        {
            "name": "leave_last_out",
            "rule": "per user: last interaction = test, second last = valid",
            "min_interactions": min_interactions,
        },
    )


def _parts(df: pl.DataFrame, columns: list[str], description: dict) -> Split:
    train, valid, test = (df.filter(pl.col("part") == p).select(columns) for p in (0, 1, 2))
    return _finish(train, valid, test, description)


def cold_item(interactions: pl.DataFrame, test_frac: float = 0.2, valid_frac: float = 0.1) -> Split:
    """Items first seen after T_test are test-only; items first seen in [T_valid, T_test) valid.

    Train holds interactions before T_test with the other (warm) items; warm-item interactions
    after T_test are dropped so nothing newer than the cut-off leaks into training.
    """
    _check_fracs(test_frac, valid_frac)
    first = interactions.group_by("item_id").agg(first=pl.col("timestamp").min())
    t_test = _quantile_time(first["first"], 1.0 - test_frac) if first.height else None
    t_valid = _quantile_time(first["first"], 1.0 - test_frac - valid_frac) if first.height else None
    first = first.with_columns(
        group=pl.when(pl.col("first") >= t_test)
        .then(2)
        .when(pl.col("first") >= t_valid)
        .then(1)
        .otherwise(0)
    )
    df = interactions.join(first.select("item_id", "group"), on="item_id")
    before = pl.col("timestamp") < t_test
    cols = interactions.columns
    train = df.filter((pl.col("group") == 0) & before).select(cols)
    valid = df.filter((pl.col("group") == 1) & before).select(cols)
    test = df.filter(pl.col("group") == 2).select(cols)
    return _finish(
        train,
        valid,
        test,
        {
            "name": "cold_item",
            "rule": "items whose first interaction is >= T_test appear only in test; "
            "items first seen in [T_valid, T_test) only in valid",
            "T_valid": str(t_valid),
            "T_test": str(t_test),
            "cold_test_items": int((first["group"] == 2).sum()),
            "cold_valid_items": int((first["group"] == 1).sum()),
        },
    )


def _stable_bucket(user_id: int) -> float:
    """A uniform number in [0, 1) from the user id alone (same on every machine and run)."""
    digest = hashlib.blake2b(str(int(user_id)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def cold_user(interactions: pl.DataFrame, test_frac: float = 0.2, valid_frac: float = 0.1) -> Split:
    """A stable-hashed share of users is held out entirely (test), another share valid.

    Held-out users have no history at all, so this measures the cold-start fallback.
    """
    _check_fracs(test_frac, valid_frac)
    users = interactions.select("user_id").unique()
    buckets = users.with_columns(
        b=pl.col("user_id").map_elements(_stable_bucket, return_dtype=pl.Float64)
    )
    df = interactions.join(buckets, on="user_id")
    train = df.filter(pl.col("b") >= test_frac + valid_frac)
    valid = df.filter((pl.col("b") >= test_frac) & (pl.col("b") < test_frac + valid_frac))
    test = df.filter(pl.col("b") < test_frac)
    cols = interactions.columns
    return _finish(
        train.select(cols),
        valid.select(cols),
        test.select(cols),
        {
            "name": "cold_user",
            "rule": "users hashed (blake2b of user_id) into test/valid/train; held-out users "
            "have no training history",
            "test_frac": test_frac,
            "valid_frac": valid_frac,
        },
        keep_users=False,
    )


def _check_fracs(test_frac: float, valid_frac: float) -> None:
    if not (0 < test_frac < 1 and 0 <= valid_frac < 1 and test_frac + valid_frac < 1):
        raise ValueError(
            f"need 0 < test_frac, 0 <= valid_frac and test_frac + valid_frac < 1, "
            f"got test_frac={test_frac}, valid_frac={valid_frac}"
        )


SPLITS: dict[str, Callable[..., Split]] = {
    "global_temporal": global_temporal,
    "per_user_temporal": per_user_temporal,
    "leave_last_out": leave_last_out,
    "cold_item": cold_item,
    "cold_user": cold_user,
}


def make_split(interactions: pl.DataFrame, name: str, **kwargs) -> Split:
    """Split by registry name (``SPLITS``); a clear error for unknown names."""
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; choose one of {sorted(SPLITS)}")
    if interactions.is_empty():
        raise ValueError("cannot split an empty interactions table")
    return SPLITS[name](interactions, **kwargs)
