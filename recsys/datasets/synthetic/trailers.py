"""Short procedural trailers: shapes in the item's palette moving along style-driven paths.

H.264 in MP4 through PyAV, 64x96 at 8 fps, 2-4 s. One x264 thread keeps the bytes deterministic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recsys.datasets.synthetic.posters import style_palette

TRAILER_SIZE = (64, 96)  # (width, height); even sizes for yuv420p
FPS = 8


def _sig(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-4.0 * x)))


def trailer_frames(genre: int, style: np.ndarray, seed: int) -> np.ndarray:
    """(T, H, W, 3) uint8 frames; duration, speed and paths follow the style vector."""
    width, height = TRAILER_SIZE
    rng = np.random.default_rng(seed)
    bg, accent, light = style_palette(genre, style)
    n_frames = int(FPS * (2 + 2 * _sig(style[2])))  # epic -> longer trailer
    speed = 0.5 + 2.5 * _sig(style[1])  # fast-paced -> faster motion
    brightness = 1.3 - 0.8 * _sig(style[0])
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)  # (H, W)
    ramp = (yy / height)[..., None]  # (H, W, 1)
    base = bg * brightness * (1.2 - 0.6 * ramp)  # (H, W, 3)
    dims = len(style)
    phase = np.array([style[(5 + k) % dims] for k in range(4)]) * 6.0 + rng.normal(0, 0.2, 4)
    radius = 6 + 10 * _sig(style[3 % dims])
    frames = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    for t in range(n_frames):
        s = speed * t / FPS
        frame = base.copy()
        for k, colour in enumerate((accent, light)):
            cx = width * (0.5 + 0.35 * np.sin(s + phase[2 * k]))
            cy = height * (0.5 + 0.35 * np.cos(0.7 * s + phase[2 * k + 1]))
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 < radius**2  # (H, W)
            frame[mask] = colour
        # Flicker on cuts for fast-paced trailers: every few frames the palette inverts.
        if speed > 2.0 and t % 6 == 5:
            frame = 255.0 - frame
        frames[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return frames


def write_trailer(path: Path, genre: int, style: np.ndarray, seed: int) -> None:
    """Encode one trailer as H.264 MP4 at ``path``."""
    import av  # heavy: only the media writer needs it

    frames = trailer_frames(genre, style, seed)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=FPS, options={"preset": "ultrafast", "threads": "1", "crf": "28"}
        )
        stream.width, stream.height = TRAILER_SIZE
        stream.pix_fmt = "yuv420p"
        for array in frames:
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
