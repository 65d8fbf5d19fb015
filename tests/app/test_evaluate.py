"""`run_evaluate` end to end on a tiny workspace, and the report opened in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.app.evaluate import run_evaluate
from recsys.core.catalog import Catalog
from recsys.core.schemas import ITEMS_SCHEMA, USERS_SCHEMA
from recsys.core.workspace import Workspace
from tests.helpers import headless_chromium


def _workspace(tmp_path: Path, inter: pl.DataFrame) -> Workspace:
    """A workspace with canonical tables, a poster per item, and real LanceDB vector tables.

    The vectors are synthetic (a test double for the encoders, which are slow and tested in
    features/): item_text groups items by id mod 3, item_image is noise.
    """
    from PIL import Image

    ws = Workspace(tmp_path / "ws")
    media = tmp_path / "media"
    (media / "posters").mkdir(parents=True)
    ids = sorted(set(inter["item_id"].to_list()) | {999})  # 999: never interacted
    for i in ids[:5]:
        Image.new("RGB", (60, 90), (i * 40 % 255, 80, 120)).save(media / f"posters/{i}.jpg")
    items = (
        pl.DataFrame(
            {
                "item_id": ids,
                "title": [f"Item {i}" for i in ids],
                "poster_path": [f"posters/{i}.jpg" for i in ids],
            },
        )
        .with_columns(
            *[
                pl.lit(None, dtype=t).alias(c)
                for c, t in ITEMS_SCHEMA.items()
                if c not in ("item_id", "title", "poster_path")
            ]
        )
        .select(list(ITEMS_SCHEMA))
    )
    users = pl.DataFrame({"user_id": sorted(set(inter["user_id"].to_list()))}).with_columns(
        created_at=pl.lit(None, dtype=USERS_SCHEMA["created_at"])
    )
    Catalog(items, users, inter, media, "tiny").save(ws.data_dir)
    from features.store import FeatureStore

    store = FeatureStore(ws.lancedb_uri)
    rng = np.random.default_rng(0)
    text = np.eye(3)[np.array(ids) % 3] + 0.1 * rng.random((len(ids), 3))
    for modality, vectors in (("text", text), ("image", rng.random((len(ids), 4)))):
        store.write(
            "item",
            modality,
            ids,
            vectors,
            encoder="test-double",
            encoder_version="1",
            content_hashes=[str(i) for i in ids],
            job_id="test",
        )
    return ws


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, interactions) -> Path:
    tmp_path = tmp_path_factory.mktemp("eval_run")
    ws = _workspace(tmp_path, interactions)
    out = tmp_path / "report"
    summary = run_evaluate(ws, out, n_boot=50, hybrid=False, n_examples=2)
    assert summary.startswith("evaluate:") and "report.html" in summary
    return out


def test_run_evaluate_writes_three_files(report_dir):
    for name in ("report.html", "report.md", "metrics.json"):
        assert (report_dir / name).stat().st_size > 0
    m = json.loads((report_dir / "metrics.json").read_text())
    names = [x["name"] for x in m["sections"]["main"]["models"]]
    assert names == ["pipeline", "popularity", "itemknn", "ease", "als", "content_knn[fused]"]
    pipeline = m["pipeline"]["main"]
    union = pipeline["source_recall"]["union"]["recall"]
    assert 0 < union <= 1 and all(
        r["recall"] <= union + 1e-9 for s, r in pipeline["source_recall"].items()
    )  # no single source can find more than the union of all of them
    assert pipeline["modalities"] == ["image", "text"] and isinstance(
        pipeline["feature_gain"], dict
    )
    assert pipeline["vs_best"]["lo"] <= pipeline["vs_best"]["mean"] <= pipeline["vs_best"]["hi"]
    # 31 items and 40 users: the cold split may leave no label user with a like to learn from
    cold_names = [x["name"] for x in m["sections"]["cold_items"]["models"]]
    assert "pipeline" in cold_names or any("pipeline (cold_items) failed" in n for n in m["notes"])
    assert m["sections"]["main"]["split"]["name"] == "per_user_temporal"
    rows = m["ablation"]["rows"]
    assert {"content_knn[text]", "content_knn[image]", "content_knn[fused]"} <= set(rows)
    assert {"warm", "cold"} <= set(rows["content_knn[text]"])
    assert any("hybrid row skipped" in n for n in m["notes"])  # hybrid=False above
    assert "cold_items" in m["sections"] and m["dataset"]["items"] == 31
    cold_only = m["sections"]["cold_items_only"]["models"]
    assert cold_only and all(x["metrics"]["recall@20"]["mean"] >= 0 for x in cold_only)
    assert m["goals"][0]["goal"].startswith("warm users: pipeline NDCG@10")
    assert isinstance(m["goals"][0]["met"], bool)
    md = (report_dir / "report.md").read_text()
    assert "ndcg@10" in md and "per_user_temporal" in md and "bootstrap" in md
    assert "&gt;" not in md and "&#39;" not in md  # Markdown is not HTML-escaped


def test_report_renders_in_chromium(report_dir):
    with headless_chromium() as browser:
        page = browser.new_page()
        page.goto((report_dir / "report.html").as_uri())
        widths = page.eval_on_selector_all(
            ".plots img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
        )
        assert len(widths) >= 3 and all(w > 0 for w in widths)
        assert page.locator("table.summary tr").count() >= 7  # header + pipeline + 5 models
        thumbs = page.eval_on_selector_all(".item img", "imgs => imgs.map(i => i.naturalWidth)")
        assert thumbs and all(w > 0 for w in thumbs)
