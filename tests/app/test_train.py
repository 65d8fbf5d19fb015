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
from recsys.models.hybrid import HybridConfig, HybridRecommender

FAST = HybridConfig(dim=16, n_layers=1, max_len=16, max_epochs=2, eval_every=10)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_train_then_update_writes_runs_and_grows_ids(tiny_workspace):
    ws = tiny_workspace
    lines: list[str] = []
    summary = run_train(ws, log=lines.append, config=FAST)
    first = Run.latest(ws.artifacts_dir).path
    assert first is not None and first.name in summary and "NDCG@10" in summary
    for model in ("popularity", "itemknn", "hybrid"):
        assert (first / "models" / model).is_dir()
    hybrid_dir = first / "models" / "hybrid"
    for name in ("model.safetensors", "config.json", "vocab.npz", "lineage.json",
                 "item_vectors.npz"):  # fmt: skip
        assert (hybrid_dir / name).exists(), name
    assert any("parameters" in line for line in lines)
    lineage = json.loads((hybrid_dir / "lineage.json").read_text())
    assert lineage["features"]["item_content"] is None  # no feature store: ID-only, said so

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
    second = Run.latest(ws.artifacts_dir).path
    assert second != first and "update" in summary
    rec = HybridRecommender.load(second / "models" / "hybrid")
    assert rec.lineage["warm_start_from"] == first.name
    assert 10_000 in rec.user_vocab.ids
    user = rec.user_vocab.index([10_000])
    assert len(rec.sequences.row(int(user[0]))) == 5
    assert np.isfinite(rec.item_vectors()).all()
