"""Video encoder: tiny MP4s written with PyAV, frames sampled, embedded by the real EfficientNet."""

from __future__ import annotations

import av
import numpy as np
import pytest

from features.encoders.base import EncodeError
from features.encoders.frames import sample_frames
from features.encoders.video import VideoEncoder

# Frame i is a solid colour with red = 20 * i, so a sampled frame tells which index it was.
COLOURS = [(20 * i, 60, 255 - 20 * i) for i in range(12)]


def frame_index(image) -> int:
    return round(image.getpixel((32, 24))[0] / 20)


@pytest.fixture
def clip_path(media_root, make_mp4):
    return make_mp4(media_root / "trailers" / "a.mp4", COLOURS, fps=10)


def test_uniform_and_first_k_sampling(clip_path):
    with av.open(str(clip_path)) as container:
        uniform = sample_frames(container, 4, "uniform")
    # 1.2 s at 10 fps; targets (j + 0.5) / 4 * 1.2 s -> the first frames at/after 0.15, 0.45...
    assert [frame_index(im) for im in uniform] == [2, 5, 8, 11]
    with av.open(str(clip_path)) as container:
        first = sample_frames(container, 3, "first-k")
    assert [frame_index(im) for im in first] == [0, 1, 2]
    with av.open(str(clip_path)) as container:
        many = sample_frames(container, 30, "uniform")  # more samples than frames: repeats
    assert len(many) == 30 and all(im.mode == "RGB" for im in many)


def test_truncated_faststart_mp4_is_detected(media_root):
    path = media_root / "faststart.mp4"
    with av.open(str(path), mode="w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(30):
            arr = np.random.default_rng(i).integers(0, 255, (48, 64, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # the index survives, the media data does not
    with av.open(str(path)) as container, pytest.raises(EncodeError) as info:
        sample_frames(container, 4)
    assert info.value.reason in ("truncated_video", "corrupt_video")


def test_video_encoder_batch_keeps_good_items(efficientnet, clip_path, media_root, make_mp4):
    other = make_mp4(media_root / "trailers" / "b.mp4", COLOURS[::-1], fps=10)
    data = clip_path.read_bytes()
    (media_root / "trailers" / "cut.mp4").write_bytes(data[: len(data) // 2])  # loses its moov
    enc = VideoEncoder(frames=4, frame_encoder=efficientnet, media_root=media_root)
    inputs = ["trailers/a.mp4", "trailers/cut.mp4", "trailers/none.mp4", "trailers/b.mp4", None]
    result = enc.encode_batch(inputs)
    assert result.ok == [0, 3]
    assert result.errors[4].startswith("no_media")
    assert result.vectors.shape == (2, 1280) and result.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
    assert result.errors[1].startswith("corrupt_video")
    assert result.errors[2].startswith("missing_file")
    np.testing.assert_allclose(enc.encode([other])[0], result.vectors[1], atol=1e-5)
    assert enc.version == f"video[k=4,uniform,mean]+{efficientnet.version}"


def test_attention_pooling_starts_as_mean(efficientnet, clip_path):
    mean = VideoEncoder(frames=4, frame_encoder=efficientnet)
    attn = VideoEncoder(frames=4, frame_encoder=efficientnet, pooling="attention")
    frames = np.random.default_rng(0).normal(size=(2, 4, 1280)).astype(np.float32)
    np.testing.assert_allclose(attn.pool(frames), mean.pool(frames), atol=1e-5)
    assert attn.version != mean.version


def test_bad_config_is_rejected(efficientnet):
    with pytest.raises(ValueError, match="sampling"):
        VideoEncoder(sampling="random", frame_encoder=efficientnet)
    with pytest.raises(ValueError, match="not an image encoder"):
        VideoEncoder(frame_encoder="minilm", frame_encoder_config={})


def test_clip_frame_encoder_by_config(tiny_clip_dir, clip_path, media_root):
    enc = VideoEncoder(
        frames=2,
        sampling="first-k",
        frame_encoder="clip",
        frame_encoder_config={"checkpoint": str(tiny_clip_dir)},
        media_root=media_root,
        device="cpu",
    )
    out = enc.encode(["trailers/a.mp4"])
    assert out.shape == (1, 16)
    assert enc.version.startswith("video[k=2,first-k,mean]+clip[")


def _scene_trailer(path, make_scene, seeds, shift: int = 0):
    """12 frames at 96x64: 3 frames of each ``scene(seed)``, brightness moved by ``shift``."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for seed in seeds:
            arr = np.asarray(make_scene((96, 64), seed), np.int16) + shift
            frame = av.VideoFrame.from_ndarray(arr.clip(0, 255).astype(np.uint8), format="rgb24")
            for _ in range(3):
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_low_resolution_frames_keep_similar_trailers_closer(efficientnet, media_root, make_scene):
    # Known answer for the default 128 px frames: a re-graded copy of a trailer stays closer
    # to it than a trailer of other scenes, at 128 px as at the network's native 224 px.
    _scene_trailer(media_root / "a.mp4", make_scene, [1, 2, 3, 4])
    _scene_trailer(media_root / "a2.mp4", make_scene, [1, 2, 3, 4], shift=25)
    _scene_trailer(media_root / "b.mp4", make_scene, [11, 12, 13, 14])
    shared = {"share_model_of": efficientnet}
    small = VideoEncoder(media_root=media_root, frame_encoder_config=shared)
    native = VideoEncoder(media_root=media_root, frame_encoder_config=shared, frame_size=None)
    assert small.frame_encoder.model is efficientnet.model  # one model in memory
    assert "@128px" in small.version and "@224px" in native.version
    for enc in (small, native):
        a, a2, b = enc.encode(["a.mp4", "a2.mp4", "b.mp4"])
        assert a @ a2 > a @ b + 0.05, enc.version
    np.testing.assert_allclose(
        small.encode(["a.mp4"]) @ native.encode(["a.mp4"]).T, 1.0, atol=0.3
    )  # same direction roughly: only the input scale changed
