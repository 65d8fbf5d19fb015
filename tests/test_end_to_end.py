"""End to end: tiny synthetic dataset → every CLI stage → real uvicorn → HTTP → ranked items."""

from __future__ import annotations

import httpx
import polars as pl
import pytest
from typer.testing import CliRunner

import serving.process
from recsys.app.cli import app


def _cli(ws, *args: str) -> str:
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), *args])
    assert result.exit_code == 0, f"recsys {' '.join(args)} failed:\n{result.output}"
    return result.output


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Run the whole pipeline on a tiny dataset, then `recsys serve` in a subprocess."""
    from recsys.core.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("e2e")).ensure()
    raw = ws.raw_dir / "synthetic"
    _cli(
        ws,
        "data",
        "synth",
        "--out",
        str(raw),
        "--items",
        "80",
        "--users",
        "60",
        "--interactions",
        "2000",
    )
    _cli(ws, "preprocess", str(raw))
    _cli(ws, "embed")
    _cli(ws, "train")
    _cli(ws, "index")
    _cli(ws, "evaluate", "--report", str(ws.reports_dir / "e2e"))
    assert (ws.reports_dir / "e2e" / "metrics.json").exists()

    log = tmp_path_factory.mktemp("e2e-server") / "server.log"
    with serving.process.served(ws.root, log) as base:
        yield ws, base


def test_known_user_gets_ranked_unseen_items(served):
    ws, base = served
    interactions = pl.read_parquet(ws.data_dir / "interactions.parquet")
    user_id = interactions.group_by("user_id").len().sort("len", descending=True)["user_id"][0]
    seen = set(interactions.filter(pl.col("user_id") == user_id)["item_id"].to_list())

    response = httpx.get(f"{base}/users/{user_id}/recommendations", params={"k": 5}, timeout=30)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == user_id and body["cold_start"] is False
    items = body["items"]
    assert len(items) == 5
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    assert all(item["title"] for item in items)
    assert not seen & {item["item_id"] for item in items}


def test_unknown_user_gets_popular_items_flagged_cold_start(served):
    _, base = served
    response = httpx.get(f"{base}/users/987654321/recommendations", params={"k": 3}, timeout=30)
    assert response.status_code == 200
    assert response.json()["cold_start"] is True
    assert len(response.json()["items"]) == 3
