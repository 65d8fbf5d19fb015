"""Similar items, text/image search, posters."""

from __future__ import annotations

import io

from PIL import Image


def test_similar_default_and_per_modality(client):
    body = client.get("/items/100/similar", params={"k": 3}).json()
    assert [it["title"].split()[0] for it in body["items"]] == ["Space"] * 3
    assert 100 not in {it["item_id"] for it in body["items"]}
    image = client.get("/items/120/similar", params={"k": 3, "modality": "image"}).json()
    assert all(it["title"].startswith("Night") for it in image["items"])
    assert all(it["reason"].startswith("poster") for it in image["items"]), image


def test_similar_errors(client):
    r = client.get("/items/999999/similar")
    assert r.status_code == 404 and "999999" in r.json()["detail"]
    r = client.get("/items/100/similar", params={"modality": "video"})
    assert r.status_code == 409 and "item_video" in r.json()["detail"]
    r = client.get("/items/100/similar", params={"modality": "smell"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "modality"]


def test_text_search(client):
    body = client.post("/search", json={"query": "a restaurant full of chaos", "k": 3}).json()
    assert all(it["title"].startswith("Laughs") for it in body["items"]), body
    r = client.post("/search", json={"query": "", "k": 3})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "query"]
    r = client.post("/search", json={"query": "x", "k": "many"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "k"]


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 200)).save(buf, format="PNG")
    return buf.getvalue()


def test_image_search_without_clip_is_501(client):
    r = client.post("/search", files={"image": ("p.png", _png(), "image/png")})
    assert r.status_code == 501 and "RECSYS_CLIP_CHECKPOINT" in r.json()["detail"]


def test_image_upload_checks(client, settings, engine):
    from fastapi.testclient import TestClient

    from serving.app import create_app

    # no CLIP on this server: said before the upload is read (format checks with a CLIP
    # stand-in: tests/serving/test_uploads.py)
    r = client.post("/search", files={"image": ("a.png", b"not really a png", "image/png")})
    assert r.status_code == 501 and "CLIP" in r.json()["detail"]
    small = settings.model_copy(update={"max_body_bytes": 1000})
    with TestClient(create_app(small, engine=engine)) as c:
        r = c.post("/search", files={"image": ("big.png", b"\0" * 5000, "image/png")})
        assert r.status_code == 413
        r = c.post("/recommendations", json={"text": "x" * 2000})
        assert r.status_code == 413


def test_poster_served_by_item_id_only(client):
    r = client.get("/media/posters/100")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (60, 90)
    assert client.get("/media/posters/999999").status_code == 404
    assert client.get("/media/posters/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
    assert client.get("/media/../../etc/passwd").status_code == 404
