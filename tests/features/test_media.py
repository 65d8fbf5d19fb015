"""Safe media loading: every kind of bad file gives an EncodeError with the right reason code."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from features.encoders.base import EncodeError
from features.media import IMAGE_FORMATS, load_image, open_image, open_video


def reason_of(call) -> str:
    with pytest.raises(EncodeError) as info:
        call()
    return info.value.reason


def test_modes_become_rgb(media_root, make_scene):
    img = make_scene()
    img.convert("L").save(media_root / "gray.png")
    img.convert("CMYK").save(media_root / "cmyk.jpg")
    img.convert("P").save(media_root / "palette.png")
    img.convert("LA").save(media_root / "gray_alpha.png")
    Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)).save(
        media_root / "sixteen.png"
    )
    for name in ["gray.png", "cmyk.jpg", "palette.png", "gray_alpha.png", "sixteen.png"]:
        out = load_image(name, media_root)
        assert out.mode == "RGB" and out.size[0] > 0, name


def test_alpha_is_composited_onto_white(media_root):
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))  # fully transparent red
    rgba.putpixel((0, 0), (255, 0, 0, 255))
    rgba.save(media_root / "alpha.png")
    out = load_image("alpha.png", media_root)
    assert out.getpixel((5, 5)) == (255, 255, 255)
    assert out.getpixel((0, 0)) == (255, 0, 0)


def test_palette_transparency_is_composited(media_root):
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    pal.info["transparency"] = 0
    pal.save(media_root / "pal_t.png", transparency=0)
    assert load_image("pal_t.png", media_root).getpixel((1, 1)) == (255, 255, 255)


def test_missing_empty_corrupt_truncated(media_root, make_scene):
    (media_root / "empty.jpg").write_bytes(b"")
    (media_root / "garbage.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg" * 10)
    make_scene((320, 240)).save(media_root / "full.jpg", quality=90)
    data = (media_root / "full.jpg").read_bytes()
    (media_root / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (media_root / "folder.jpg").mkdir()
    assert reason_of(lambda: load_image("nope.jpg", media_root)) == "missing_file"
    assert reason_of(lambda: load_image("empty.jpg", media_root)) == "empty_file"
    assert reason_of(lambda: load_image("garbage.jpg", media_root)) == "corrupt_image"
    assert reason_of(lambda: load_image("truncated.jpg", media_root)) == "corrupt_image"
    assert reason_of(lambda: load_image("folder.jpg", media_root)) == "not_a_file"
    assert reason_of(lambda: open_image(b"")) == "empty_file"


def test_paths_outside_root_are_refused(media_root, tmp_path, make_scene):
    outside = tmp_path / "secret.png"
    make_scene().save(outside)
    (media_root / "link.png").symlink_to(outside)
    assert reason_of(lambda: load_image("../secret.png", media_root)) == "outside_media_root"
    assert reason_of(lambda: load_image(outside, media_root)) == "outside_media_root"
    # a link the dataset itself holds is its layout (media kept on another disk): read it
    assert load_image("link.png", media_root).size == make_scene().size
    # the refusal comes before any existence check, so it leaks nothing about other paths
    assert reason_of(lambda: load_image("../missing.png", media_root)) == "outside_media_root"


def _png_with_declared_size(path, width: int, height: int) -> None:
    """A tiny valid PNG whose IHDR then claims ``width x height`` (CRC fixed): a bomb header."""
    Image.new("L", (4, 4)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = 8 + 8  # signature + (length, type) of the first chunk
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12 : ihdr + 13]))  # type + 13-byte IHDR body
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))


def test_decompression_bomb_is_refused_before_decoding(media_root):
    _png_with_declared_size(media_root / "bomb.png", 100_000, 100_000)
    assert reason_of(lambda: load_image("bomb.png", media_root)) == "decompression_bomb"
    Image.new("RGB", (100, 100)).save(media_root / "small.png")
    assert reason_of(lambda: load_image("small.png", media_root, max_pixels=50 * 50)) == (
        "decompression_bomb"
    )


def test_only_allowed_formats_are_decoded_whatever_the_file_is_called(media_root, make_scene):
    img = make_scene((32, 24))
    for fmt in IMAGE_FORMATS:
        img.save(media_root / f"ok.{fmt.lower()}", format=fmt)
        assert load_image(f"ok.{fmt.lower()}", media_root).size == (32, 24), fmt
    for fmt in ("TIFF", "PPM", "ICO", "TGA"):
        img.save(media_root / f"{fmt}.png", format=fmt)  # a PNG by name only
        with pytest.raises(EncodeError, match="accepted format") as info:
            load_image(f"{fmt}.png", media_root)
        assert info.value.reason == "corrupt_image", fmt
    # a caller that wants one more format names it (the allow-list is a parameter)
    tiff = (media_root / "TIFF.png").read_bytes()
    assert open_image(tiff, formats=(*IMAGE_FORMATS, "TIFF")).size == (32, 24)


def test_bomb_beyond_pillows_own_limit_is_refused_from_bytes(tmp_path):
    # Pillow raises DecompressionBombError itself in open() past 2x its MAX_IMAGE_PIXELS
    _png_with_declared_size(tmp_path / "huge.png", 100_000, 100_000)
    data = (tmp_path / "huge.png").read_bytes()
    assert reason_of(lambda: open_image(data, label="upload")) == "decompression_bomb"
    _png_with_declared_size(tmp_path / "big.png", 13_000, 13_000)  # only PIL's warning zone
    with pytest.raises(EncodeError, match="13000x13000 = 169000000 pixels > limit"):
        open_image((tmp_path / "big.png").read_bytes(), label="upload")


def test_open_video_errors(media_root):
    (media_root / "empty.mp4").write_bytes(b"")
    (media_root / "junk.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 500)
    assert reason_of(lambda: open_video("none.mp4", media_root)) == "missing_file"
    assert reason_of(lambda: open_video("empty.mp4", media_root)) == "empty_file"
    assert reason_of(lambda: open_video("junk.mp4", media_root)) == "corrupt_video"
    assert reason_of(lambda: open_video("../x.mp4", media_root)) == "outside_media_root"
