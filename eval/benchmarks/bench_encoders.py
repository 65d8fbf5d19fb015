"""Raw encoder throughput per modality (items/s) on synthetic inputs, with same-run ratios.

- text: MiniLM on batched item texts; reference = the same texts one at a time.
- image: EfficientNet-Lite0 on in-memory images (raw forward + preprocessing); also from JPEG
  files through ``encode_batch`` (safe loading included): ratio files / in-memory.
- video: ``VideoEncoder`` (K frames, EfficientNet-Lite0 sharing the image model) from MP4 files
  at its default frame size; ratios = default ÷ 224 px frames, and 224 px frames/s inside video
  vs the raw image items/s (1.0 = decoding costs nothing).

``raw_throughput`` is the yardstick the feature-store job benchmark compares its pipeline with.

    python -m eval.benchmarks.bench_encoders [--quick] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from features.encoders.base import Encoder

WORDS = [
    "space",
    "crew",
    "love",
    "city",
    "night",
    "war",
    "family",
    "secret",
    "robot",
    "ocean",
    "dream",
    "heist",
    "storm",
    "music",
    "ghost",
    "island",
    "detective",
    "comedy",
    "drama",
    "journey",
]


def raw_throughput(encoder: Encoder, inputs: Sequence[Any], repeats: int = 3) -> float:
    """Best items/s of ``encoder.encode(inputs)`` over ``repeats`` passes (after warm-up)."""
    encoder.encode(list(inputs[: min(4, len(inputs))]))  # load weights, allocate, JIT caches
    best = 0.0
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        encoder.encode(inputs)
        best = max(best, len(inputs) / (time.perf_counter() - start))
    return best


def cpu_throughput(encoder: Encoder, inputs: Sequence[Any]) -> float:
    """Items per CPU-second of this process for one ``encode`` pass (robust to other load)."""
    start = time.process_time()
    encoder.encode(inputs)
    return len(inputs) / max(time.process_time() - start, 1e-9)


def batch_throughput(encoder: Encoder, inputs: Sequence[Any], repeats: int = 3) -> float:
    """Best items/s of ``encode_batch`` (per-item safe loading + one batched forward)."""
    encoder.encode_batch(list(inputs[:2]))
    best = 0.0
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = encoder.encode_batch(inputs)
        assert not result.errors, result.errors
        best = max(best, len(inputs) / (time.perf_counter() - start))
    return best


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(20, 60)))) for _ in range(n)]


def synthetic_image(seed: int, size: tuple[int, int] = (300, 450)) -> Image.Image:
    """A poster-sized picture: gradient plus random shapes."""
    rng = np.random.default_rng(seed)
    w, h = size
    grad = np.linspace(0, 255, h, dtype=np.float32)[:, None, None] * rng.uniform(0.2, 1, 3)
    image = Image.fromarray(np.broadcast_to(grad, (h, w, 3)).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        box = (x, y, x + int(rng.integers(20, w // 2)), y + int(rng.integers(20, h // 2)))
        draw.ellipse(box, fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return image


def write_trailer(path: Path, seed: int, frames: int = 48, fps: int = 24, size=(320, 180)) -> None:
    import av

    rng = np.random.default_rng(seed)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(
            "libx264" if "libx264" in av.codecs_available else "mpeg4", rate=fps
        )
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        base = np.asarray(synthetic_image(seed, size), dtype=np.int16)
        for t in range(frames):
            arr = np.clip(base + int(rng.integers(-30, 30)) + t, 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a fast check")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: automatic)")
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--videos", type=int, default=16)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workspace", default=None, help="unused; accepted for `make bench`")
    args, _ = parser.parse_known_args(argv)  # tolerate flags meant for other benchmarks
    if args.quick:
        args.texts, args.images, args.videos, args.repeats = 64, 16, 4, 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from features.encoders.image import EfficientNetLite0Encoder
    from features.encoders.text import SentenceTransformerEncoder
    from features.encoders.video import VideoEncoder

    text_enc = SentenceTransformerEncoder(device=args.device)
    texts = synthetic_texts(args.texts)
    text_qps = raw_throughput(text_enc, texts, args.repeats)
    single = texts[: max(8, args.texts // 8)]
    start = time.perf_counter()
    for t in single:
        text_enc.encode([t])
    text_single_qps = len(single) / (time.perf_counter() - start)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device={text_enc.device} cpus={os.cpu_count()} load1={load:.1f}")
    print(
        f"text  minilm             {text_qps:8.1f} items/s  "
        f"({cpu_throughput(text_enc, texts):.1f}/cpu-s; "
        f"batched / one-at-a-time = {text_qps / text_single_qps:.1f}x)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        images = [synthetic_image(i) for i in range(args.images)]
        for i, im in enumerate(images):
            im.save(root / f"p{i}.jpg", quality=90)
        image_enc = EfficientNetLite0Encoder(media_root=root, device=args.device)
        image_qps = raw_throughput(image_enc, images, args.repeats)
        file_qps = batch_throughput(
            image_enc, [f"p{i}.jpg" for i in range(args.images)], args.repeats
        )
        print(
            f"image efficientnet-lite0 {image_qps:8.1f} items/s  "
            f"({cpu_throughput(image_enc, images):.1f}/cpu-s; from JPEG files {file_qps:.1f}/s, "
            f"files / in-memory = {file_qps / image_qps:.2f})"
        )

        for i in range(args.videos):
            write_trailer(root / f"v{i}.mp4", seed=i)
        trailers = [f"v{i}.mp4" for i in range(args.videos)]
        shared = {"share_model_of": image_enc}  # one EfficientNet in memory, as in `embed`
        video_enc = VideoEncoder(
            frames=args.frames, frame_encoder_config=shared, media_root=root
        )  # default frame size
        native = VideoEncoder(
            frames=args.frames, frame_encoder_config=shared, media_root=root, frame_size=None
        )  # 224 px, the reference
        video_qps = batch_throughput(video_enc, trailers, args.repeats)
        native_qps = batch_throughput(native, trailers, args.repeats)
        frame_ratio = native_qps * args.frames / image_qps
        frame_px = getattr(video_enc.frame_encoder, "image_size", "?")  # an ImageEncoder here
        print(
            f"video k={args.frames} (lite0 {frame_px}px) "
            f"{video_qps:8.1f} items/s  (÷ 224px frames {native_qps:.1f}/s = "
            f"{video_qps / native_qps:.2f}x; 224px frames/s in video / image items/s = "
            f"{frame_ratio:.2f})"
        )


if __name__ == "__main__":
    main()
