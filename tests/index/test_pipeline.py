"""fit -> index -> candidates on the shared tiny workspace: the path serving takes.

The models are fitted directly (popularity, item-kNN) rather than through `run_train`, whose
hybrid ranker takes minutes on a shared CPU; the end-to-end test covers that path.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from recsys.app.publish import run_index
from index.candidates import CandidateConfig, CandidateGenerator, CandidateRequest


def test_train_index_then_candidates_from_current(tiny_workspace, unit_vectors):
    from recsys.core.catalog import load_workspace_catalog
    from recsys.core.interactions import IdVocab
    from recsys.models.itemknn import ItemKNN
    from recsys.models.popularity import Popularity
    from recsys.app.train import LATEST, new_run_dir

    ws = tiny_workspace
    catalog = load_workspace_catalog(ws)
    item_ids = np.sort(catalog.items["item_id"].to_numpy()).astype(np.int64)
    # stand-in for `recsys embed` (encoders are tested in tests/features): same store table
    from features.store import FeatureStore

    FeatureStore(ws.lancedb_uri).write(
        "item", "text", item_ids, unit_vectors(len(item_ids), 16), encoder="test",
        encoder_version="test-1", content_hashes=[str(i) for i in item_ids], job_id="job-0",
    )  # fmt: skip
    run = new_run_dir(ws)
    vocab = IdVocab(item_ids)
    Popularity.fit(catalog.interactions, vocab).save(run / "models" / "popularity")
    ItemKNN.fit(catalog.interactions, vocab).save(run / "models" / "itemknn")
    (ws.artifacts_dir / LATEST).write_text(run.name)
    run_index(ws)

    assert ws.current_run() == run.resolve()
    gen = CandidateGenerator.from_run(
        ws.current_run(), CandidateConfig(quotas={"ann": 5, "itemknn": 5, "popularity": 5})
    )
    assert [s.name for s in gen.sources] == ["ann", "itemknn", "popularity"]
    user = catalog.interactions["user_id"][0]
    seen = catalog.interactions.filter(pl.col("user_id") == user)["item_id"].unique().to_numpy()
    got = gen.generate(CandidateRequest(history=seen, exclude=seen))

    ids = [c.item_id for c in got]
    assert len(ids) == len(set(ids)) and 5 < len(ids) <= 15
    assert not set(ids) & set(seen.tolist())
    assert {c.source for c in got} == {"ann", "itemknn", "popularity"}
    assert set(ids) <= set(item_ids.tolist())
