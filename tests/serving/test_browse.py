"""The rows that need no choice: GET /items/popular and GET /items/new (serving/engine/browse.py).

Known answers: "popular" is recomputed here from the workspace's raw interactions with the one
like rule; "new" is empty on the suite's workspace (every title has 10+ likes) and holds exactly
the titles a copy of it gained after its run was trained, newest first.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from recsys.core.catalog import Catalog
from recsys.core.interactions import is_like
from recsys.core.schemas import ITEMS_SCHEMA
from recsys.core.workspace import Workspace
from recsys.ranking import PipelineConfig
from serving.engine.browse import new_titles

# Titles added to the catalog after run-a was trained (id -> year): the run has no likes of them
NEW_TITLES = {200: 2024, 201: 2026, 202: 2025}
NEWEST_FIRST = [201, 202, 200]


def write_mp4(path: Path) -> None:
    """A real 2-4 s H.264 trailer (the synthetic catalog's writer), as browsers play them."""
    from recsys.datasets.synthetic.trailers import write_trailer

    path.parent.mkdir(parents=True, exist_ok=True)
    write_trailer(path, genre=0, style=np.zeros(12), seed=1)


def workspace_with_new_titles(
    src: Workspace, root: Path, trailers: dict[int, str] | None = None
) -> Workspace:
    """A copy of ``src`` whose catalog gained ``NEW_TITLES`` (with posters) after its run.

    ``trailers`` sets ``trailer_path`` (relative to the media root) of chosen items; the files
    are the caller's to write. The copy's media root is its own ``media/``.
    """
    shutil.copytree(src.root, root, symlinks=True, ignore=shutil.ignore_patterns("events"))
    ws = Workspace(root)
    media = root / "media"
    catalog = Catalog.load(ws.data_dir)
    rows = []
    for item_id, year in NEW_TITLES.items():
        poster = f"posters/{item_id}.jpg"
        Image.new("RGB", (60, 90), (20, 160, 150)).save(media / poster)
        rows.append(
            {
                "item_id": item_id,
                "title": f"Fresh Story {item_id}",
                "description": "a brand new title nobody has watched yet",
                "genres": ["Sci-Fi"],
                "tags": ["new"],
                "year": year,
                "poster_path": poster,
                "trailer_path": None,
            }
        )
    items = pl.concat([catalog.items, pl.DataFrame(rows, schema=ITEMS_SCHEMA)])
    for item_id, rel in (trailers or {}).items():
        items = items.with_columns(
            trailer_path=pl.when(pl.col("item_id") == item_id)
            .then(pl.lit(rel))
            .otherwise(pl.col("trailer_path"))
        )
    catalog.items = items
    catalog.media_root = media
    catalog.save(ws.data_dir)
    return ws


@pytest.fixture(scope="module")
def new_ws(serving_ws, tmp_path_factory):
    return workspace_with_new_titles(serving_ws, tmp_path_factory.mktemp("new-titles") / "ws")


@pytest.fixture(scope="module")
def new_client(new_ws, encoders):
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.engine import RecommendationEngine
    from serving.settings import Settings

    engine = RecommendationEngine.load(new_ws, encoders)
    settings = Settings(workspace=new_ws.root, reload_poll_seconds=0)
    with TestClient(create_app(settings, engine=engine)) as c:
        yield c


def _popular_by_hand(ws: Workspace) -> list[int]:
    """Likes in the last ``recent_days`` of the data, then all likes, then id (the run saw all)."""
    inter = pl.read_parquet(ws.data_dir / "interactions.parquet")
    liked = inter.filter(
        pl.Series(
            [is_like(r, w) for r, w in zip(inter["rating"], inter["watch_fraction"], strict=True)]
        )
    )
    since = inter["timestamp"].max() - timedelta(days=PipelineConfig().recent_days)
    counts = liked.group_by("item_id").agg(
        total=pl.len(), recent=(pl.col("timestamp") >= since).sum()
    )
    ranked = counts.sort(["recent", "total", "item_id"], descending=[True, True, False])
    return ranked["item_id"].to_list()


def test_popular_matches_the_interactions(client, serving_ws):
    expected = _popular_by_hand(serving_ws)
    body = client.get("/items/popular", params={"k": 10}).json()
    assert [it["item_id"] for it in body["items"]] == expected[:10]
    assert [it["rank"] for it in body["items"]] == list(range(1, 11))
    first = body["items"][0]
    assert first["reason_kind"] == "popular"
    assert first["poster_url"] == f"/media/posters/{expected[0]}"
    assert first["reason"] == f"{int(first['score'])} likes in the last 30 days"
    assert body["model_version"] == "run-a"
    assert len(client.get("/items/popular").json()["items"]) == 12  # the page's default


def test_new_is_empty_when_every_title_is_liked(client):
    # the suite's workspace: each title has 10+ likes, far above fresh_max_count (2)
    body = client.get("/items/new").json()
    assert body["items"] == [] and body["model_version"] == "run-a"


def test_new_lists_titles_added_after_the_run(new_client):
    body = new_client.get("/items/new").json()
    assert [it["item_id"] for it in body["items"]] == NEWEST_FIRST
    assert {it["reason_kind"] for it in body["items"]} == {"fresh"}
    assert {it["reason"] for it in body["items"]} == {"new on the service, no likes yet"}
    assert body["items"][0]["title"] == "Fresh Story 201"
    assert [it["item_id"] for it in new_client.get("/items/new?k=2").json()["items"]] == [201, 202]
    # never liked, so never "popular"
    popular = {it["item_id"] for it in new_client.get("/items/popular?k=100").json()["items"]}
    assert popular.isdisjoint(NEW_TITLES) and len(popular) == 40


def test_new_includes_titles_the_run_saw_liked_at_most_fresh_max_count_times(new_ws, encoders):
    from serving.engine import RecommendationEngine

    engine = RecommendationEngine.load(new_ws, encoders)  # its own: its facts are edited below
    stage1 = engine.snap.models.pipeline.stage1
    p = int(stage1.vocab.index([139])[0])
    likes, age = stage1.facts.likes.copy(), stage1.facts.age_days.copy()
    likes[p], age[p] = 1.0, 5.0  # one like, first watched 5 days before the run's end
    stage1.facts = replace(stage1.facts, likes=likes, age_days=age)
    rows = new_titles(engine, k=10)
    assert [r.item_id for r in rows] == [*NEWEST_FIRST, 139]
    assert rows[-1].reason == "new on the service, 1 like so far"
    assert rows[-1].score == 1.0


def test_browse_routes_validate_and_document(client):
    assert client.get("/items/popular", params={"k": 0}).status_code == 422
    assert client.get("/items/new", params={"k": 1001}).status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/items/popular", "/items/new"):
        responses = paths[route]["get"]["responses"]
        assert {"200", "422", "503"} <= set(responses), (route, responses)
        assert responses["503"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorBody"
        )
