"""`recsys train` / `recsys train --update` on the tiny synthetic workspace."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from recsys.app.train import run_train
from recsys.core.catalog import load_workspace_catalog
from recsys.core.runs import Run
from recsys.ranking import PIPELINE, PipelineConfig, RankRequest, load_pipeline

# a small tower (the default shape needs minutes on 2 cores); leaves of one hessian unit for
# a ranker trained on ~60 users
FAST = PipelineConfig(
    tower=True,
    tower_overrides={"dim": 16, "n_layers": 1, "max_len": 16, "max_epochs": 2, "eval_every": 10},
    min_child_weight=1.0,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_train_then_update_writes_runs_and_keeps_the_ranker(tiny_workspace):
    ws = tiny_workspace
    lines: list[str] = []
    summary = run_train(ws, log=lines.append, config=FAST)
    first = Run.latest(ws.artifacts_dir)
    assert first is not None and first.name in summary and "NDCG@10" in summary
    pipe_dir = first.model_dir(PIPELINE)
    for name in ("manifest.json", "ranker_warm/ranker.json", "stage1/ease", "stage1/tower"):
        assert (pipe_dir / name).exists(), name
    assert any("EASE λ" in line for line in lines) and any("ranker" in line for line in lines)
    manifest = first.manifest()
    assert manifest["pipeline"]["modalities"] == []  # no feature store: collaborative only
    assert manifest["pipeline"]["tower"] is True
    # serving replays the event log from here: taken before training read it
    assert manifest["events_cutoff"] <= manifest["created_at"]
    # a scale run's figures: throughput over the whole fit and the process's peak memory
    rate = manifest["interactions_per_second"]
    assert rate > 0 and f"{rate:,} interactions/s" in summary
    assert 0.1 < manifest["peak_rss_gb"] < 64 and "peak RSS" in summary

    # new interactions by a brand-new user, then `train --update`
    catalog = load_workspace_catalog(ws)
    inter = catalog.interactions
    t0 = inter["timestamp"].max() + timedelta(days=1)
    items = catalog.items["item_id"].to_numpy()[:5]
    new = pl.DataFrame(
        {"user_id": [10_000] * 5, "item_id": items,
         "timestamp": [t0 + timedelta(hours=h) for h in range(5)], "kind": "view",
         "rating": None, "review_text": None, "watch_fraction": 1.0},
        schema=inter.schema,
    )  # fmt: skip
    users = pl.concat([catalog.users, pl.DataFrame({"user_id": [10_000], "created_at": [t0]},
                                                   schema=catalog.users.schema)])  # fmt: skip
    catalog.interactions, catalog.users = pl.concat([inter, new]), users
    catalog.save(ws.data_dir)

    summary = run_train(ws, update=True, log=lines.append)
    second = Run.latest(ws.artifacts_dir)
    assert second is not None and second.name != first.name and "update" in summary
    old = json.loads((pipe_dir / "ranker_warm/ranker.json").read_text())
    kept = json.loads((second.model_dir(PIPELINE) / "ranker_warm/ranker.json").read_text())
    assert kept == old  # the ranker is kept, stage 1 refitted
    pipeline = load_pipeline(second)
    assert pipeline.info["warm_start_from"] == first.name
    assert 10_000 in pipeline.stage1.tower.user_vocab.ids
    assert set(pipeline.stage1.histories.liked[10_000].tolist()) == set(
        pipeline.vocab.index(items).tolist()
    )
    ranked = pipeline.recommend(RankRequest(user_id=10_000, k=5))
    assert len(ranked.item_ids) == 5 and not set(ranked.item_ids) & set(items)
    assert np.isfinite(ranked.scores).all()
