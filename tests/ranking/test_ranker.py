"""The learned ranker's cross-validated fit, on groups whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.ranking.boosting import RankingGroups
from recsys.ranking.config import PipelineConfig
from recsys.ranking.ranker import Ranker

CFG = PipelineConfig(n_estimators=80, early_stopping_rounds=10, min_child_weight=1.0)


def _groups(n_users: int = 60, per: int = 30, seed: int = 0) -> RankingGroups:
    """Feature 0 says which rows are liked (plus noise); feature 1 is noise."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n_users * per) < 0.2).astype(np.float32)
    y[::per] = 1.0  # every group has a positive
    x = np.stack([y + rng.normal(0, 0.7, len(y)), rng.normal(0, 1, len(y))], 1)
    return RankingGroups(x.astype(np.float32), y, np.full(n_users, per), np.arange(n_users) + 1)


def test_every_user_validates_once_and_the_final_booster_learns_from_all():
    data = _groups()
    final, fold0 = Ranker.fit(data, ["signal", "noise"], CFG, ("rank:ndcg", "binary:logistic"))
    info = final.info
    assert info["folds"] == 5 and info["valid_groups"] == 60 and info["train_groups"] == 60
    assert set(info["valid_ndcg10_by_objective"]) == {"rank:ndcg", "binary:logistic"}
    assert info["valid_ndcg10"] == max(info["valid_ndcg10_by_objective"].values())
    assert final.booster.num_boosted_rounds() == info["trees"]
    assert fold0.info["fold0_only"] and fold0.booster.num_boosted_rounds() <= info["trees"]
    s = final.predict(data.features)
    assert s[data.labels == 1].mean() > s[data.labels == 0].mean()
    assert final.importance().get("signal", 0) > final.importance().get("noise", 0)


def test_folds_are_stable_per_user_and_fold_zero_is_the_held_out_share():
    data = _groups()
    folds = data.folds(0.2)
    assert set(folds.tolist()) == {0, 1, 2, 3, 4}
    np.testing.assert_array_equal(data.held_out(0.2), folds == 0)
    again = data.take(np.arange(59, -1, -1))  # other order, same users
    np.testing.assert_array_equal(again.folds(0.2), folds[::-1])


def test_older_label_windows_train_but_never_validate():
    data = _groups()
    older = _groups(seed=1)
    older.window = np.ones(len(older.group), np.int64)
    final, _ = Ranker.fit(data.concat(older), ["signal", "noise"], CFG, ("binary:logistic",))
    assert final.info["train_groups"] == 120 and final.info["valid_groups"] == 60


def test_shards_hold_whole_groups_and_together_every_group():
    data = _groups(n_users=7, per=3)
    shards = [data.shard(rank, 3) for rank in range(3)]
    assert [len(s.group) for s in shards] == [3, 2, 2]
    assert sorted(np.concatenate([s.users for s in shards]).tolist()) == data.users.tolist()
    np.testing.assert_array_equal(shards[1].features, data.features[[3, 4, 5, 12, 13, 14]])
    assert data.shard(0, 1) is data
    assert len(_groups(n_users=1).shard(1, 2).labels) == 0  # a worker may hold no group


def test_the_engine_goes_to_ray_only_above_the_stated_frame_size():
    from dataclasses import replace

    from recsys.ranking.boosting import ranker_engine

    data = _groups()  # 1,800 rows
    assert ranker_engine(CFG, data) == "local"
    assert ranker_engine(replace(CFG, ranker_ray_above_rows=1_799), data) == "ray"
    assert ranker_engine(replace(CFG, ranker_engine="ray"), data) == "ray"
    assert ranker_engine(replace(CFG, ranker_engine="local", ranker_ray_above_rows=0), data) == (
        "local"
    )
    with pytest.raises(ValueError, match="ranker_engine"):
        ranker_engine(replace(CFG, ranker_engine="spark"), data)


def test_above_the_cap_the_folds_come_from_a_sample_and_the_final_booster_sees_all():
    from dataclasses import replace

    data = _groups(n_users=120)
    final, fold0 = Ranker.fit(
        data, ["signal", "noise"], replace(CFG, ranker_cv_max_groups=50), ("binary:logistic",)
    )
    info = final.info
    assert info["cv_groups"] == 50 and info["valid_groups"] == 50
    assert info["train_groups"] == 120 and info["rows"] == 120 * 30
    assert fold0.booster.num_boosted_rounds() <= info["trees"]
    s = final.predict(data.features)
    assert s[data.labels == 1].mean() > s[data.labels == 0].mean()
