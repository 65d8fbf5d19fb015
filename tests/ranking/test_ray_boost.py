"""XGBoost on Ray: the same cross-validated fit as in process, by two Ray Train workers.

Slow: Ray Train starts two worker processes (a minute or more on two shared cores). The
two-node cluster version runs in tests/scale/test_scale_out.py.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recsys.ranking.ranker import Ranker
from tests.ranking.test_ranker import CFG, _groups

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.train.xgboost", reason='needs Ray Train: pip install "ray[train]"')
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def test_two_ray_workers_train_the_ranker_the_local_fit_trains(local_ray, tmp_path):
    data = _groups(n_users=80)
    names = ["signal", "noise"]
    objectives = ("rank:ndcg", "binary:logistic")
    local, _ = Ranker.fit(data, names, CFG, objectives)
    cfg = replace(CFG, ranker_engine="ray", ranker_ray_storage=str(tmp_path / "ray"))
    final, fold0 = Ranker.fit(data, names, cfg, objectives)

    info = final.info
    assert info["engine"] == "ray" and info["ray_workers"] == 2 and len(info["ray_nodes"]) == 1
    assert info["folds"] == 5 and info["valid_groups"] == 80
    assert final.booster.num_boosted_rounds() == info["trees"]
    assert fold0.info["fold0_only"] and fold0.booster.num_boosted_rounds() <= info["trees"]
    # each worker saw half the groups, XGBoost's collective joined them: the validation score
    # is the whole folds' (close to the local fit's, whose histogram bins differ slightly)
    assert abs(info["valid_ndcg10"] - local.info["valid_ndcg10"]) < 0.05
    s = final.predict(data.features)
    assert s[data.labels == 1].mean() > s[data.labels == 0].mean()
    assert np.corrcoef(s, local.predict(data.features))[0, 1] > 0.9
    final.save(tmp_path / "model")
    again = Ranker.load(tmp_path / "model")
    np.testing.assert_allclose(again.predict(data.features), s, rtol=1e-6)
