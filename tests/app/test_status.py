"""`recsys status` on an empty directory and on a tiny workspace with features, errors and runs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from features.store import FeatureStore
from recsys.app.status import format_status, workspace_status
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from serving.engine.answer_store import write_answer_store


@pytest.fixture(autouse=True)
def _own_store(monkeypatch):
    monkeypatch.delenv("RECSYS_LANCEDB_URI", raising=False)


def test_empty_directory_says_none_yet_and_creates_nothing(tmp_path):
    ws = Workspace(tmp_path / "nothing-here")

    status = workspace_status(ws)

    assert not ws.root.exists()  # a status must not create the store or any folder
    assert status["exists"] is False and status["data"] is None
    assert status["store"] == {"uri": ws.lancedb_uri, "exists": False, "tables": [],
                               "errors": [], "jobs": 0}  # fmt: skip
    assert status["runs"] == [] and status["evaluation"] is None
    assert status["events"]["files"] == 0 and status["events"]["lines"] == 0
    assert status["next"].startswith("recsys preprocess SRC")
    text = format_status(json.loads(json.dumps(status)))
    assert "does not exist" in text and "runs       none yet" in text
    assert "evaluation none yet" in text and "next       recsys preprocess SRC" in text


def _features(ws: Workspace, n_items: int) -> None:
    """item_text at two encoder versions, and one image that failed to embed."""
    store = FeatureStore(ws.lancedb_uri)
    rng = np.random.default_rng(0)
    for version, dim_rows in (("v1", n_items), ("v2", 5)):
        ids = np.arange(1, dim_rows + 1)
        store.write("item", "text", ids, rng.normal(size=(dim_rows, 8)), encoder="hash-text",
                    encoder_version=version, content_hashes=[f"h{i}" for i in ids],
                    job_id=f"job-{version}")  # fmt: skip
    errors = {3: "missing_file: 3.jpg", 4: "missing_file: 4.jpg", 5: "corrupt_image: 5.jpg"}
    store.record_errors("job-v1", "item", "image", errors)


def _runs(ws: Workspace) -> tuple[Run, Run]:
    """An old run that is served and a newer one trained but not yet indexed."""
    served = Run.create(ws.artifacts_dir)
    served.write_manifest({"created_at": "2024-01-01T00:00:00+00:00", "models": ["popularity"],
                           "hybrid": {"best_valid_ndcg10": 0.1234, "device": "cpu"},
                           "fit_seconds": {"popularity": 0.5}})  # fmt: skip
    served.index_dir.mkdir()
    write_answer_store(served.answers_dir, [("a", b"{}"), ("b", b"{}")], {"run": served.name})
    served.publish()
    newer = Run.create(ws.artifacts_dir)
    newer.write_manifest({"models": ["hybrid", "popularity"],
                          "hybrid": {"best_valid_ndcg10": 0.2}})  # fmt: skip
    newer.mark_latest()
    return served, newer


def test_tiny_workspace_reports_features_errors_runs_evaluation_events(tiny_workspace):
    ws = tiny_workspace
    manifest = json.loads((ws.data_dir / "dataset.json").read_text())
    _features(ws, n_items=12)
    served, newer = _runs(ws)
    ws.events_dir.mkdir()
    (ws.events_dir / "events-2024-01-01.jsonl").write_text('{"a": 1}\n{"a": 2}\n\n')
    (ws.events_dir / "events-2024-01-02.jsonl").write_text('{"a": 3}\n')
    for name, ndcg in (("old", 0.9), ("latest", 0.31)):  # the newer file wins, not the higher
        report_dir = ws.reports_dir / name
        report_dir.mkdir(parents=True)
        models = [{"name": "popularity", "metrics": {"ndcg@10": {"mean": 0.05}}},
                  {"name": "hybrid[text]", "metrics": {"ndcg@10": {"mean": ndcg}}},
                  {"name": "broken", "metrics": {}}]  # fmt: skip
        report = {"created_at": "2024-02-02T00:00:00+00:00", "dataset": {"name": name},
                  "sections": {"main": {"models": models}}}  # fmt: skip
        (report_dir / "metrics.json").write_text(json.dumps(report))
        past = time.time() - (1000 if name == "old" else 0)
        os.utime(report_dir / "metrics.json", (past, past))

    status = json.loads(json.dumps(workspace_status(ws)))  # JSON-serialisable as promised

    assert status["data"]["items"] == manifest["counts"]["items"] == 80
    assert status["data"]["interactions"] == manifest["counts"]["interactions"]
    (table,) = status["store"]["tables"]  # embed_errors is not a feature table
    assert (table["name"], table["rows"], table["ids"], table["dim"]) == ("item_text", 17, 12, 8)
    by_version = {e["encoder_version"]: e["rows"] for e in table["encoders"]}
    assert by_version == {"v1": 12, "v2": 5}
    assert all(e["encoder"] == "hash-text" and e["last_written"] for e in table["encoders"])
    errors = {(e["modality"], e["code"]): e["count"] for e in status["store"]["errors"]}
    assert errors == {("image", "missing_file"): 2, ("image", "corrupt_image"): 1}
    runs = {r["id"]: r for r in status["runs"]}
    assert list(runs) == [served.name, newer.name]
    assert (runs[served.name]["current"], runs[served.name]["latest"]) == (True, False)
    assert (runs[newer.name]["current"], runs[newer.name]["latest"]) == (False, True)
    assert runs[served.name]["metrics"] == {"hybrid.best_valid_ndcg10": 0.1234}
    assert runs[served.name]["indexed"] and not runs[newer.name]["indexed"]
    assert (runs[served.name]["answers"], runs[newer.name]["answers"]) == (2, 0)
    assert runs[newer.name]["models"] == ["hybrid", "popularity"]
    ev = status["evaluation"]
    assert ev["path"].endswith("latest/metrics.json") and ev["dataset"] == {"name": "latest"}
    assert ev["best"] == {"model": "hybrid[text]", "ndcg@10": 0.31} and ev["models"] == 3
    assert status["events"]["files"] == 2 and status["events"]["lines"] == 3
    assert status["next"].startswith("recsys index")  # the latest run is not served yet

    text = format_status(status)
    assert "80 items" in text and "item_text" in text and "dim 8" in text
    assert "hash-text v1: 12 rows" in text and "hash-text v2: 5 rows" in text
    assert "3 embed errors" in text and "2  missing_file  e.g. 3.jpg" in text
    assert f"{served.name} [current] (2 precomputed answers)" in text
    assert f"{newer.name} [latest] (no index)" in text
    assert "hybrid.best_valid_ndcg10 0.1234" in text
    assert "best hybrid[text] NDCG@10 0.3100" in text
    assert "3 lines in 2 files" in text and "next       recsys index" in text
    assert len(text.splitlines()) < 40  # one screen


def test_unreadable_table_and_report_are_shown_not_raised(tiny_workspace):
    ws = tiny_workspace
    _features(ws, n_items=4)
    for data_file in (Path(ws.lancedb_uri) / "item_text.lance" / "data").iterdir():
        data_file.write_bytes(b"not a lance file")
    (ws.reports_dir / "cut").mkdir(parents=True)
    (ws.reports_dir / "cut" / "metrics.json").write_text('{"sections": {"ma')

    status = workspace_status(ws)

    (table,) = status["store"]["tables"]
    assert table["name"] == "item_text" and "unreadable" in table
    assert "unreadable" in status["evaluation"]
    assert status["next"] == "recsys train"
    text = format_status(status)
    assert "item_text" in text and text.count("UNREADABLE") == 2
