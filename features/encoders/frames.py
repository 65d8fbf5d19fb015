"""Frame sampling from an opened PyAV container: K frames, uniform over the duration or the first K.

Uniform sampling takes, for target times ``start + (j + 0.5) / K * duration``, the first frame at
or after each target, decoding sequentially and stopping after the last target (trailers are
short; seeking would depend on keyframe spacing and is not worth it here).
"""

from __future__ import annotations

from typing import Any, Literal

from PIL import Image

from features.encoders.base import EncodeError

Sampling = Literal["uniform", "first-k"]


def _seconds(value: Any, time_base: Any) -> float | None:
    return float(value * time_base) if value is not None and time_base is not None else None


def stream_timing(container: Any, stream: Any) -> tuple[float, float | None, float]:
    """(start seconds, duration seconds or None when unknown, frames per second)."""
    fps = float(stream.average_rate or stream.guessed_rate or 25.0)
    start = _seconds(stream.start_time, stream.time_base) or 0.0
    duration = _seconds(stream.duration, stream.time_base)
    if not duration and container.duration:
        duration = container.duration / 1_000_000  # container duration is in AV_TIME_BASE (us)
    if not duration and stream.frames:
        duration = stream.frames / fps
    return start, (duration or None), fps


def _decode(container: Any, stream: Any, label: str):
    """Yield (time seconds, frame); FFmpeg decode errors become ``EncodeError``."""
    import av

    index = 0
    fps = float(stream.average_rate or 25.0)
    try:
        for frame in container.decode(stream):
            t = frame.time if frame.time is not None else index / fps
            index += 1
            yield t, frame
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        msg = f"{label}: decoding failed after {index} frames ({exc})"
        raise EncodeError(msg, "corrupt_video") from exc


def sample_frames(
    container: Any,
    k: int,
    sampling: Sampling = "uniform",
    label: str = "video",
    max_decode_frames: int = 600,
) -> list[Image.Image]:
    """Return exactly ``k`` RGB frames (short videos repeat their last frame).

    Raises:
        EncodeError: no decodable frame (``no_frames``), decode failure (``corrupt_video``), or the
            stream ends well before its declared duration (``truncated_video``).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # frame/slice threads inside FFmpeg
    start, duration, fps = stream_timing(container, stream)
    picked: list[Image.Image] = []
    if sampling == "first-k":
        for _, frame in _decode(container, stream, label):
            picked.append(frame.to_image())
            if len(picked) == k:
                break
    elif sampling == "uniform" and duration is not None:
        targets = [start + (j + 0.5) / k * duration for j in range(k)]
        last_t, last = start, None  # last_t is read only once a frame was decoded
        for t, frame in _decode(container, stream, label):
            last_t, last = t, frame
            image = None
            while len(picked) < k and t >= targets[len(picked)]:
                image = image or frame.to_image()
                picked.append(image)
            if len(picked) == k:
                break
        if last is not None and len(picked) < k:
            # The stream ended before the last target: fine within two frame periods (timestamps
            # round), else the file lost its tail.
            if last_t + 2.0 / fps < targets[-1]:
                raise EncodeError(
                    f"{label}: stream ends at {last_t:.2f}s but declares {duration:.2f}s",
                    "truncated_video",
                )
            picked += [last.to_image()] * (k - len(picked))
    elif sampling == "uniform":  # unknown duration: count frames (bounded), rewind, pick evenly
        total = 0
        for _ in _decode(container, stream, label):
            total += 1
            if total >= max_decode_frames:
                break
        wanted = sorted({int((j + 0.5) / k * total) for j in range(k)}) if total else []
        container.seek(0, stream=stream)
        images: dict[int, Image.Image] = {}
        for index, (_, frame) in enumerate(_decode(container, stream, label)):
            if index in wanted:
                images[index] = frame.to_image()
            if len(images) == len(wanted):
                break
        indices = (int((j + 0.5) / k * total) for j in range(k))
        picked = [images[i] for i in indices if i in images]
    else:
        raise ValueError(f"unknown sampling {sampling!r}; use 'uniform' or 'first-k'")
    if not picked:
        raise EncodeError(f"{label}: no decodable video frame", "no_frames")
    picked += [picked[-1]] * (k - len(picked))
    return [im.convert("RGB") for im in picked]
