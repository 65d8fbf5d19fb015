"""Image uploads to ``POST /search``: refused cheaply, decoded safely, never on the event loop.

Image search needs CLIP, which has no weights offline; ``clip_api`` serves the suite's engine
with a stand-in image tower that reproduces the workspace's poster vectors (mean colour, see
tests/serving/workspace.py), so a picture still finds the posters of its colour.
"""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from features.encoders.image import ImageEncoder
from serving.app import create_app
from serving.engine import EncoderPool, RecommendationEngine

BLUE = (30, 40, 160)  # the Sci-Fi posters' colour ("Space Story n")


class MeanColour(ImageEncoder):
    """The workspace's poster vectors: (mean RGB / 255 - 0.5, 0.05), L2-normalised."""

    name = "test-mean-colour"

    @property
    def version(self) -> str:
        return "1"

    @property
    def dim(self) -> int:
        return 4

    def _forward(self, images):
        rgb = np.stack([np.asarray(im, np.float32).mean(axis=(0, 1)) / 255.0 for im in images])
        return np.concatenate([rgb - 0.5, np.full((len(images), 1), 0.05)], axis=1)  # (N, 4)


class ClipPool(EncoderPool):
    """The suite's text encoder plus the stand-in image tower, as if a checkpoint were set."""

    def __init__(self, base: EncoderPool):
        super().__init__(base.text_name, clip_checkpoint="test-mean-colour", device="cpu")
        self.base = base
        self.image_tower = MeanColour(device="cpu")

    def text(self):
        return self.base.text()

    def clip_image(self):
        return self.image_tower


@pytest.fixture()
def api(settings, engine):
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture()
def clip_api(settings, engine, encoders):
    clip_engine = RecommendationEngine(engine.snap, ClipPool(encoders))
    app = create_app(settings, engine=clip_engine)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _image(fmt: str, size=(16, 16), colour=BLUE, mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, format=fmt)
    return buf.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header then claims ``width x height`` (CRC fixed): a bomb."""
    data = bytearray(_image("PNG", (4, 4), 0, "L"))
    ihdr = 8 + 8  # signature + (length, type) of the first chunk
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12 : ihdr + 13]))  # type + 13-byte IHDR body
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def _upload(client, data: bytes, ctype: str = "image/png", k: int = 3):
    return client.post("/search", files={"image": ("p", data, ctype)}, data={"k": str(k)})


@pytest.fixture()
def decode_calls(monkeypatch):
    """Every ``Image.open`` during the test (the header read that starts any decode)."""
    calls: list[str] = []
    real_open = Image.open

    def spy(fp, *args, **kwargs):
        calls.append(threading.current_thread().name)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    return calls


def test_without_clip_the_answer_comes_before_decoding(api, decode_calls):
    t0 = time.perf_counter()
    r = _upload(api, _png_declaring(13_000, 13_000))
    elapsed = time.perf_counter() - t0
    assert r.status_code == 501, r.text
    assert "no image encoder (CLIP) configured" in r.json()["detail"]
    assert "RECSYS_CLIP_CHECKPOINT" in r.json()["detail"]
    assert decode_calls == []
    assert elapsed < 1.0


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP"])
def test_each_accepted_format_finds_posters_of_its_colour(clip_api, fmt):
    ctype = f"image/{fmt.lower()}"
    r = _upload(clip_api, _image(fmt), ctype)
    assert r.status_code == 200, r.text
    titles = [it["title"] for it in r.json()["items"]]
    assert len(titles) == 3 and all(t.startswith("Space") for t in titles), titles


def test_too_many_pixels_is_413_read_from_the_header(clip_api, monkeypatch):
    from PIL import ImageFile

    loads: list[int] = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda self: loads.append(1) or real_load(self)
    )
    r = _upload(clip_api, _png_declaring(13_000, 13_000))  # 169 MP in a ~70-byte file
    assert r.status_code == 413, r.text
    assert "13000x13000" in r.json()["detail"] and "pixels" in r.json()["detail"]
    assert loads == []  # refused from the header: no pixel was decoded


def test_header_beyond_pillows_own_limit_is_413_not_500(clip_api):
    # Pillow itself raises DecompressionBombError at open() past 2x its limit (179 MP)
    r = _upload(clip_api, _png_declaring(100_000, 100_000))
    assert r.status_code == 413, r.text
    assert "decompression_bomb" in r.json()["detail"]


@pytest.mark.parametrize("fmt", ["TIFF", "PPM", "ICO"])
def test_other_formats_are_415_whatever_the_declared_type(clip_api, fmt):
    r = _upload(clip_api, _image(fmt), "image/png")  # decodable by Pillow, not allowed here
    assert r.status_code == 415, r.text
    assert "JPEG, PNG, WEBP, GIF, BMP" in r.json()["detail"]


def test_unreadable_uploads_are_415(clip_api):
    r = _upload(clip_api, b"not really a png")
    assert r.status_code == 415 and "not a readable image" in r.json()["detail"]
    png = _image("PNG", (64, 64))
    r = _upload(clip_api, png[: len(png) // 2])  # truncated: the header reads, the data not
    assert r.status_code == 415 and "could not be decoded" in r.json()["detail"]
    r = _upload(clip_api, b"")
    assert r.status_code == 415 and "empty" in r.json()["detail"]
    r = _upload(clip_api, b"hello", "text/plain")
    assert r.status_code == 415 and "text/plain" in r.json()["detail"]


def test_form_fields_are_checked(clip_api):
    r = clip_api.post("/search", files={"other": ("p", _image("PNG"), "image/png")})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "image"]
    r = _upload(clip_api, _image("PNG"), k=0)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "k"]


def test_decoding_runs_off_the_event_loop(clip_api, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real_open = Image.open

    def slow_open(fp, *args, **kwargs):  # a decode that takes as long as the test wants
        entered.set()
        release.wait(5)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", slow_open)
    result: dict = {}
    upload = threading.Thread(target=lambda: result.update(r=_upload(clip_api, _image("PNG"))))
    upload.start()
    try:
        assert entered.wait(30), "the upload never reached decoding"
        t0 = time.perf_counter()
        health = clip_api.get("/health")
        latency = time.perf_counter() - t0
    finally:
        release.set()
        upload.join(30)
    assert health.status_code == 200
    assert latency < 1.0, f"/health took {latency:.2f}s while an upload was decoding"
    assert result["r"].status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe\x00 binary garbage", b'{"query": "\xff"}', b"[1, 2]", b""],
)
def test_a_body_that_is_not_a_json_object_is_422(api, body):
    r = api.post("/search", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body"]


def test_a_form_body_that_does_not_parse_is_422(clip_api):
    r = clip_api.post("/search", content=b"x", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 422, r.text  # Starlette's own answer would be an undeclared 400
    assert r.json()["detail"][0]["loc"] == ["body"]
