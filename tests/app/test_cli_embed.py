"""`recsys embed` exit status (issue 13): 0 of N encoded fails loudly; users' media layouts work.

Real encoders (EfficientNet-Lite0 loads in a few seconds; it never sees a bad poster), a tiny
hand-made catalog of 10 items and 4 users, real LanceDB in tmp_path.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from PIL import Image
from typer.testing import CliRunner

from features.store import FeatureStore
from recsys.app.cli import app
from recsys.core.catalog import Catalog
from recsys.core.schemas import ITEMS_SCHEMA, USERS_SCHEMA
from recsys.core.workspace import Workspace
from tests.worlds import T0, make_interactions

N_ITEMS = 10


@pytest.fixture(autouse=True)
def _own_store(monkeypatch):
    monkeypatch.delenv("RECSYS_LANCEDB_URI", raising=False)


def workspace(root: Path, posters: list[str | None], media_root: Path) -> Workspace:
    items = pl.DataFrame(
        {
            "item_id": list(range(1, N_ITEMS + 1)),
            "title": [f"Movie {i}" for i in range(1, N_ITEMS + 1)],
            "description": [f"A story about hero {i}." for i in range(1, N_ITEMS + 1)],
            "genres": [["drama"]] * N_ITEMS,
            "tags": [[]] * N_ITEMS,
            "year": [2000 + i for i in range(N_ITEMS)],
            "poster_path": posters,
            "trailer_path": [None] * N_ITEMS,
        },
        schema=ITEMS_SCHEMA,
    )
    users = pl.DataFrame({"user_id": [1, 2, 3, 4], "created_at": [T0] * 4}, schema=USERS_SCHEMA)
    rows = [(u, (u * 3 + k) % N_ITEMS + 1, u + k, float(1 + (u + k) % 5))
            for u in range(1, 5) for k in range(4)]  # fmt: skip
    ws = Workspace(root / "ws").ensure()
    catalog = Catalog(items, users, make_interactions(rows), media_root=media_root.resolve())
    catalog.save(ws.data_dir)
    return ws


def embed(ws: Workspace, *args: str):
    return CliRunner().invoke(app, ["embed", "--workspace", str(ws.root), *args])


def test_zero_of_n_posters_exits_1_with_the_reasons_and_writes_the_rest(tmp_path):
    media = tmp_path / "media"
    (media / "posters").mkdir(parents=True)
    missing = [f"posters/{i}.jpg" for i in range(1, 7)]
    ws = workspace(tmp_path, [*missing, "../outside.jpg", "/etc/hostname", None, None], media)

    result = embed(ws, "--modalities", "image,ratings")

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip().splitlines()[-1]  # the one line a user reads
    assert message.startswith("embed failed: item_image encoded 0 of 8 ")
    assert "(missing_file 6, outside_media_root 2)" in message
    store = FeatureStore(ws.lancedb_uri)
    assert store.vectors("item", "ratings")[0].tolist() == list(range(1, N_ITEMS + 1))
    assert store.vectors("user", "ratings")[0].tolist() == [1, 2, 3, 4]
    assert not store.has("item", "image")
    assert store.errors().height == 8  # every refusal recorded, per item
    assert store.jobs()["status"].to_list() == ["incomplete"]


def test_an_unavailable_encoder_fails_only_when_named(tmp_path):
    ws = workspace(tmp_path, [None] * N_ITEMS, tmp_path)
    names = ("text", "image", "video", "review_text", "history_text")
    (ws.root / "embed.json").write_text(json.dumps({"encoders": dict.fromkeys(names, "nope")}))

    default = embed(ws)
    assert default.exit_code == 0, default.output  # as before: skipped, said so, not fatal
    assert "item_image: encoder unavailable" in default.output
    assert "item_ratings 10/0/0" in default.output

    named = embed(ws, "--modalities", "ratings,image")
    assert named.exit_code == 1, named.output
    last = named.stderr.strip().splitlines()[-1]
    assert last.startswith("embed failed: item_image encoder unavailable (KeyError")
    assert "item_ratings 0/10/0" in last  # the rest of the job still ran


def test_posters_on_another_disk_through_a_symlink_are_embedded(tmp_path):
    disk = tmp_path / "other-disk" / "posters"
    disk.mkdir(parents=True)
    for i in range(1, 4):
        Image.new("RGB", (32, 48), (70 * i, 30, 160)).save(disk / f"{i}.jpg")
    dataset = tmp_path / "ml-latest-small"
    dataset.mkdir()
    (dataset / "posters").symlink_to(disk, target_is_directory=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "secret.jpg")
    posters = [f"posters/{i}.jpg" for i in range(1, 4)]
    posters += ["posters/../../secret.jpg", str(tmp_path / "secret.jpg")] + [None] * 5
    ws = workspace(tmp_path, posters, dataset)

    result = embed(ws, "--modalities", "image")

    assert result.exit_code == 0, result.output
    assert "item_image 3/0/2" in result.output
    store = FeatureStore(ws.lancedb_uri)
    assert store.vectors("item", "image")[0].tolist() == [1, 2, 3]
    reasons = {r["id"]: r["reason"] for r in store.errors().to_dicts()}
    assert sorted(reasons) == [4, 5]
    assert all(r.startswith("outside_media_root") for r in reasons.values())
