"""Posters and trailers by item id: range requests, and which files may be served.

The rule is the catalog's (``confined_media_path``): a path must lie under a root lexically,
so a symlink inside the dataset (``posters/`` -> another disk) is served, while ``..`` or an
absolute path out of the media root never is.
"""

from __future__ import annotations

import shutil

import pytest

from tests.serving.test_browse import workspace_with_new_titles, write_mp4

TRAILERS = {
    100: "trailers/100.mp4",  # a real MP4
    101: "trailers/missing.mp4",  # named by the catalog, not on disk
    102: "../../outside.mp4",  # leaves the media root (the file exists)
    103: "trailers/103.mp4",  # a symlink inside the dataset to a file on "another disk"
}


@pytest.fixture(scope="module")
def media_client(serving_ws, encoders, tmp_path_factory):
    """A workspace copy whose posters/ folder is a symlink to another disk, with trailers."""
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.engine import RecommendationEngine
    from serving.settings import Settings

    base = tmp_path_factory.mktemp("media")
    ws = workspace_with_new_titles(serving_ws, base / "ws", TRAILERS)
    media, other = ws.root / "media", base / "other-disk"
    other.mkdir()
    shutil.move(media / "posters", other / "posters")
    (media / "posters").symlink_to(other / "posters", target_is_directory=True)
    write_mp4(media / "trailers" / "100.mp4")
    write_mp4(base / "outside.mp4")
    write_mp4(other / "103.mp4")
    (media / "trailers" / "103.mp4").symlink_to(other / "103.mp4")
    engine = RecommendationEngine.load(ws, encoders)
    settings = Settings(workspace=ws.root, reload_poll_seconds=0)
    with TestClient(create_app(settings, engine=engine)) as c:
        c.trailer_bytes = (media / "trailers" / "100.mp4").read_bytes()  # type: ignore[attr-defined]
        yield c


def test_poster_under_a_symlinked_folder_is_served(media_client):
    # resolving before the containment check once made this a 404 (other-disk is outside)
    r = media_client.get("/media/posters/100")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert media_client.get("/media/posters/200").status_code == 200  # a title added later


def test_trailer_whole_and_by_range(media_client):
    data = media_client.trailer_bytes
    r = media_client.get("/media/trailers/100")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "video/mp4" and r.headers["accept-ranges"] == "bytes"
    part = media_client.get("/media/trailers/100", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == data[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(data)}"
    tail = media_client.get("/media/trailers/100", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    beyond = media_client.get("/media/trailers/100", headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    bad = media_client.get("/media/trailers/100", headers={"Range": "frames=0-1"})
    assert bad.status_code == 400


def test_trailer_symlinked_inside_the_dataset_is_served(media_client):
    r = media_client.get("/media/trailers/103", headers={"Range": "bytes=0-3"})
    assert r.status_code == 206 and len(r.content) == 4


@pytest.mark.parametrize(
    "item_id",
    [101, 102, 104, 999999],
    ids=["file-missing", "outside-the-media-root", "no-trailer", "unknown-item"],
)
def test_trailer_404(media_client, item_id):
    r = media_client.get(f"/media/trailers/{item_id}")
    detail = r.json()["detail"]
    assert r.status_code == 404 and detail.startswith(f"item {item_id} "), detail
    assert "outside" not in detail and "/" not in detail  # never a path


def test_trailer_route_is_documented(media_client):
    assert media_client.get("/media/trailers/-1").status_code == 422
    spec = media_client.get("/openapi.json").json()
    responses = spec["paths"]["/media/trailers/{item_id}"]["get"]["responses"]
    assert {int(c) for c in responses} == {200, 206, 400, 404, 416, 422, 503}
    assert "video/*" in responses["206"]["content"]
    assert responses["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
