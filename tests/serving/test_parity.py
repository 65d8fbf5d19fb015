"""Evaluate what you serve: the lists `recsys evaluate` scores are the lists a live server gives.

Evaluation trains the pipeline on the data before the test cut into a run and asks it for
every test user; here that run is published in a workspace whose catalog is that same data
(what serving would hold at the cut), a real `recsys serve` process loads it, and its
`/users/{id}/recommendations` must return exactly the evaluated top-k, in order.
"""

from __future__ import annotations

import shutil

import httpx
import numpy as np
import pytest

from eval.content import content_cutoff
from eval.pipeline_eval import evaluate_pipeline
from eval.protocol import prepare
from recsys.app.content import load_pipeline_content
from recsys.core.catalog import Catalog, load_workspace_catalog
from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from recsys.core.splits import make_split
from recsys.core.workspace import Workspace
from recsys.ranking import PipelineConfig
from serving.process import served

K = 10
SAMPLE = 12


@pytest.fixture(scope="module")
def evaluated(serving_ws, tmp_path_factory):
    """(evaluated lists by user id, a workspace serving the evaluation's run)."""
    root = tmp_path_factory.mktemp("parity")
    catalog = load_workspace_catalog(serving_ws)
    split = make_split(catalog.interactions, "per_user_temporal")
    vocab = IdVocab.from_ids(catalog.items["item_id"])
    data = prepare(split.train_valid(), split.test, vocab)
    content = load_pipeline_content(serving_ws, vocab, as_of=content_cutoff(split))
    config = PipelineConfig(tower=False, min_child_weight=1.0)  # as tests/serving/workspace.py
    ran = evaluate_pipeline(
        split, catalog.items, content, data, root / "eval-run", config, (K,), n_boot=0
    )
    lists = {int(u): r.item_ids[:K].tolist() for u, r in zip(data.user_ids, ran.lists, strict=True)}

    ws = Workspace(root / "ws").ensure()
    at_cut = Catalog(catalog.items, catalog.users, split.train_valid(), catalog.media_root,
                     catalog.name)  # fmt: skip
    at_cut.save(ws.data_dir)
    shutil.copytree(root / "eval-run", ws.artifacts_dir / "eval-run")
    Run(ws.artifacts_dir / "eval-run").publish()
    return lists, ws


def test_live_server_returns_the_evaluated_lists(evaluated, serving_ws, tmp_path):
    lists, ws = evaluated
    assert len(lists) >= SAMPLE
    rng = np.random.default_rng(0)
    users = rng.choice(sorted(lists), SAMPLE, replace=False)
    env = {"RECSYS_DEVICE": "cpu", "RECSYS_LANCEDB_URI": serving_ws.lancedb_uri}
    with served(ws.root, tmp_path / "server.log", env) as base:
        for user in users:
            r = httpx.get(f"{base}/users/{user}/recommendations", params={"k": K}, timeout=30)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["model_version"] == "eval-run"
            served_ids = [it["item_id"] for it in body["items"]]
            assert served_ids == lists[int(user)], f"user {user}"
