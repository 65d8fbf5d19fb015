"""Safe loading of posters and trailers: every failure is an ``EncodeError`` with a reason code.

Reason codes (the message starts with one): ``outside_media_root``, ``missing_file``,
``not_a_file``, ``empty_file``, ``unreadable_file``, ``file_too_large``, ``corrupt_image``,
``decompression_bomb``, ``corrupt_video``, ``no_video_stream``. Encoders add ``no_media``,
``bad_input_type``, ``no_frames`` and ``truncated_video``.

``open_image`` is the one image loader: batch embed jobs (posters) and the API (uploads to
``POST /search``) both decode through it, with the same format allow-list and pixel limit.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from features.encoders.base import EncodeError

DEFAULT_MAX_PIXELS = 40_000_000
"""Refuse images above 40 MP (a 6300x6300 poster) before decoding: a tiny file can declare
gigapixel dimensions and exhaust memory when decoded (a decompression bomb)."""

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
"""The formats decoded, identified by the file's header (not its name or declared type). Pillow
then tries only these plugins, so an upload never reaches the parser of an exotic format (EPS,
for one, runs Ghostscript)."""

DEFAULT_MAX_VIDEO_BYTES = 2 << 30  # 2 GiB: a trailer larger than this is a mistake, not data.


def resolve_media_path(path: str | Path, media_root: str | Path | None) -> Path:
    """Resolve ``path`` (relative to ``media_root`` unless absolute) and check it is a real file.

    With ``media_root`` set, the path normalised lexically (``..`` collapsed, symlinks not
    followed) must stay inside it, then is resolved for reading: a ``..`` or an absolute path
    out of the root is refused, a symlink inside the dataset (``posters/`` on another disk) is
    allowed because the dataset put it there (``recsys.core.catalog.confined_media_path``, the
    same rule). ``None`` means the caller vouches for the path (no confinement).
    """
    p = Path(path)
    if media_root is not None:
        root = Path(media_root).resolve()
        lexical = Path(os.path.normpath(root / p))  # an absolute ``p`` replaces root
        if not lexical.is_relative_to(root):
            raise EncodeError(f"{path} is {lexical}, outside {root}", "outside_media_root")
        resolved = lexical.resolve()  # read what was checked: the collapsed ``..``, not ``p``
    else:
        resolved = p.resolve()
    if not resolved.exists():
        raise EncodeError(f"{resolved} does not exist", "missing_file")
    if not resolved.is_file():
        raise EncodeError(f"{resolved} is not a regular file", "not_a_file")
    if resolved.stat().st_size == 0:
        raise EncodeError(f"{resolved} is 0 bytes", "empty_file")
    if not os.access(resolved, os.R_OK):
        raise EncodeError(f"{resolved} is not readable by this process", "unreadable_file")
    return resolved


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparency is composited onto white, 16-bit/float is rescaled."""
    image = ImageOps.exif_transpose(image)  # phone photos store rotation in EXIF
    if image.mode == "RGB":
        return image
    if image.mode == "P":
        # Palette images may carry transparency in info; RGBA keeps it for the composite below.
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(image, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        image = Image.fromarray(arr.astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def open_image(
    source: Any,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    label: str = "",
    formats: Sequence[str] = IMAGE_FORMATS,
) -> Image.Image:
    """Decode a path, bytes or file object into an RGB image, refusing bombs before decoding.

    Raises:
        EncodeError: ``empty_file``; ``corrupt_image`` (not one of ``formats`` by its header, or
            it fails to decode); ``decompression_bomb`` (more than ``max_pixels`` declared).
    """
    if isinstance(source, bytes | bytearray):
        if not source:
            raise EncodeError(f"{label or 'image bytes'} are empty", "empty_file")
        source = io.BytesIO(source)
    label = label or str(source)
    try:
        with warnings.catch_warnings():
            # PIL only warns between 1x and 2x its own limit; our guard below decides instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source, formats=list(formats))  # lazy: reads the header only
    except Image.DecompressionBombError as exc:
        raise EncodeError(f"{label}: {exc}", "decompression_bomb") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        kinds = ", ".join(formats)
        raise EncodeError(
            f"{label} is not a readable image in an accepted format ({kinds}): {exc}",
            "corrupt_image",
        ) from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise EncodeError(
            f"{label} declares {width}x{height} = {width * height} pixels > limit {max_pixels}",
            "decompression_bomb",
        )
    try:
        image.load()  # the actual decode: truncated/corrupt data fails here
        return to_rgb(image)
    except (OSError, SyntaxError, ValueError) as exc:
        image.close()  # release the file handle now, not at garbage collection
        raise EncodeError(f"{label} could not be decoded ({exc})", "corrupt_image") from exc


def load_image(
    path: str | Path, media_root: str | Path | None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """Load one image file as RGB, confined to ``media_root``; raises ``EncodeError`` with a reason.

    Args:
        path: Relative to ``media_root`` (as stored in the items table) or absolute.
        media_root: Directory the file must resolve into; ``None`` disables confinement.
        max_pixels: Guard against decompression bombs, checked from the header.
    """
    resolved = resolve_media_path(path, media_root)
    return open_image(resolved, max_pixels=max_pixels, label=str(path))


def open_video(
    path: str | Path, media_root: str | Path | None, max_bytes: int = DEFAULT_MAX_VIDEO_BYTES
) -> Any:
    """Open a video with PyAV (``av.container.InputContainer``); the caller closes it.

    Raises ``EncodeError`` for paths outside the root, missing/empty/oversized files, containers
    FFmpeg cannot parse (e.g. an MP4 truncated before its ``moov`` atom) and files without video.
    """
    resolved = resolve_media_path(path, media_root)
    size = resolved.stat().st_size
    if size > max_bytes:
        raise EncodeError(f"{path} is {size} bytes > limit {max_bytes}", "file_too_large")
    import av  # heavy: only when a trailer is opened

    try:
        container = av.open(str(resolved), mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise EncodeError(f"{path} is not a readable video ({exc})", "corrupt_video") from exc
    if not container.streams.video:
        container.close()
        raise EncodeError(f"{path} has no video stream", "no_video_stream")
    return container
