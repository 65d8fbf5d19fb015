"""Decoding in worker processes ahead of the forward pass: same vectors, same per-item errors.

The reference is ``encode_rows`` (``encode_batch`` per batch in this process, which is what the
local engine ran before it prefetched). Real EfficientNet on a handful of small posters and
trailers: what is compared is the model's output, so a double would prove nothing.
"""

from __future__ import annotations

import functools
import multiprocessing
import pickle
from typing import ClassVar

import numpy as np
import pytest

from features.encoders import create_encoder
from features.encoders.base import Encoder
from features.encoders.image import EfficientNetLite0Encoder
from features.encoders.video import VideoEncoder
from features.jobs.engines import LocalEngine, encode_rows
from features.jobs.prefetch import default_workers, prepared_batches


@pytest.fixture
def posters(media_root, make_scene) -> list[str]:
    """Seven posters of several sizes, a missing one (3) and a corrupt one (5)."""
    names = []
    for i in range(9):
        name = f"p{i}.jpg"
        if i == 5:
            (media_root / name).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 4)
        elif i != 3:
            make_scene((96 + 8 * i, 64 + 4 * i), seed=i).save(media_root / name)
        names.append(name)
    return names


def run_local(encoder, factory, inputs, workers: int, batch_size=2, chunk_size=3):
    """Vectors, ok rows and errors of the local engine; batch 2 in chunks of 3 straddles both."""
    chunks = list(LocalEngine(workers).run(encoder, factory, inputs, batch_size, chunk_size))
    assert [r for c in chunks for r in c.rows] == list(range(len(inputs)))
    vectors = np.concatenate([c.vectors for c in chunks])
    ok = [r for c in chunks for r in c.ok]
    errors = {r: e for c in chunks for r, e in c.errors.items()}
    return vectors, ok, errors


def reference(encoder, inputs, batch_size=2, chunk_size=3):
    """What the local engine computed before prefetching: ``encode_rows`` chunk by chunk."""
    chunks = [
        encode_rows(encoder, inputs, list(range(s, min(s + chunk_size, len(inputs)))), batch_size)
        for s in range(0, len(inputs), chunk_size)
    ]
    vectors = np.concatenate([c.vectors for c in chunks])
    ok = [r for c in chunks for r in c.ok]
    return vectors, ok, {r: e for c in chunks for r, e in c.errors.items()}


def test_posters_decoded_in_workers_give_identical_vectors_and_errors(
    efficientnet, media_root, posters
):
    encoder = EfficientNetLite0Encoder(
        media_root=media_root, image_size=64, share_model_of=efficientnet
    )
    factory = functools.partial(
        create_encoder, "efficientnet-lite0", media_root=str(media_root), image_size=64
    )
    want_vectors, want_ok, want_errors = reference(encoder, posters)
    assert want_ok == [0, 1, 2, 4, 6, 7, 8]
    for workers in (0, 2):
        vectors, ok, errors = run_local(encoder, factory, posters, workers)
        assert ok == want_ok and errors == want_errors, workers
        np.testing.assert_array_equal(vectors, want_vectors)  # bit for bit
    assert errors[3].startswith("missing_file") and errors[5].startswith("corrupt_image")


def test_trailers_decoded_in_workers_give_identical_vectors_and_errors(
    efficientnet, media_root, make_mp4
):
    colours = [[(30 * i + 10 * f, 80, 200 - 20 * f) for f in range(6)] for i in range(4)]
    trailers = [str(make_mp4(media_root / f"t{i}.mp4", c, fps=6)) for i, c in enumerate(colours)]
    (media_root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    inputs = [trailers[0], str(media_root / "broken.mp4"), *trailers[1:], "missing.mp4"]
    frames = EfficientNetLite0Encoder(image_size=64, share_model_of=efficientnet)
    encoder = VideoEncoder(frames=3, frame_encoder=frames, media_root=media_root)
    factory = functools.partial(
        create_encoder, "video", frames=3, frame_size=64, media_root=str(media_root)
    )
    want_vectors, want_ok, want_errors = reference(encoder, inputs)
    assert want_ok == [0, 2, 3, 4] and set(want_errors) == {1, 5}
    vectors, ok, errors = run_local(encoder, factory, inputs, workers=1)
    assert ok == want_ok and errors == want_errors
    np.testing.assert_array_equal(vectors, want_vectors)


def test_stopping_early_shuts_the_workers_down(media_root, posters):
    factory = functools.partial(create_encoder, "efficientnet-lite0", media_root=str(media_root))
    inputs = posters * 5
    batches = [[i] for i in range(len(inputs))]
    stream = prepared_batches(factory(), factory, inputs, batches, workers=2)
    rows, prepared, _ = next(stream)  # the first batch, prepared here while workers start
    assert rows == [0] and prepared.ok == [0] and prepared.payload.shape == (1, 224, 224, 3)
    assert next(stream)[0] == [1]  # the first one from a worker: they are running
    assert multiprocessing.active_children()
    stream.close()  # what a crash in the runner does to the engine's generator
    assert not multiprocessing.active_children()


KILLED_JOB = """
import functools, multiprocessing, sys, time
from features.encoders import create_encoder
from features.jobs.prefetch import prepared_batches
if __name__ == "__main__":
    factory = functools.partial(create_encoder, "efficientnet-lite0", media_root=sys.argv[1])
    inputs = sys.argv[2:] * 200
    batches = [[i] for i in range(len(inputs))]
    for n, _ in enumerate(prepared_batches(factory(), factory, inputs, batches, workers=2)):
        if n == 3:
            print(*[p.pid for p in multiprocessing.active_children()], flush=True)
        time.sleep(0.05)  # a slow forward pass: the job is killed in the middle of it
"""


def test_workers_of_a_job_killed_with_sigkill_exit_too(media_root, posters):
    import os
    import signal
    import subprocess
    import sys
    import time

    script = [sys.executable, "-c", KILLED_JOB, str(media_root), *posters]
    job = subprocess.Popen(script, stdout=subprocess.PIPE, text=True)
    assert job.stdout is not None
    children = [int(pid) for pid in job.stdout.readline().split()]
    assert len(children) >= 2  # two workers (and multiprocessing's resource tracker)
    job.send_signal(signal.SIGKILL)
    job.wait()

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.monotonic() + 20
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in children if alive(pid)]
    for pid in left:  # do not leak them into the rest of the session
        os.kill(pid, signal.SIGKILL)
    assert not left, "prepare workers outlived the job"


class Decoding(Encoder):
    """An encoder that declares a ``prepare`` worth workers (to test the worker count)."""

    name: ClassVar[str] = "test-decoding"
    modality: ClassVar[str] = "image"
    prepare_in_workers: ClassVar[bool] = True
    version = "decoding-v1"
    dim = 2

    def __init__(self, device: str):
        self.device = device

    def encode(self, inputs):
        return np.ones((len(inputs), 2), np.float32) / np.sqrt(2)


def test_default_workers_by_device_and_job_size(monkeypatch):
    import torch

    monkeypatch.setattr("os.sched_getaffinity", lambda _: set(range(16)))
    monkeypatch.setattr(torch, "get_num_threads", lambda: 16)
    assert default_workers(Decoding("cpu"), 10) == 0  # torch's threads hold every core
    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    assert default_workers(Decoding("cpu"), 10) == 1  # a free core: one worker outruns it
    assert default_workers(Decoding("cuda:0"), 100) == 8  # capped: one driver feeds one GPU
    assert default_workers(Decoding("cuda:0"), 4) == 3  # the first batch is prepared here
    assert default_workers(Decoding("cuda:0"), 2) == 0  # a pool would cost more than it hides
    monkeypatch.setattr("os.sched_getaffinity", lambda _: {0, 1})
    assert default_workers(Decoding("cuda"), 100) == 1
    text = create_encoder("minilm", device="cuda")  # builds no model
    assert default_workers(text, 100) == 0  # nothing to decode: tokenising is in the forward


def test_a_pickled_image_encoder_leaves_its_model_behind(efficientnet):
    efficientnet.model  # noqa: B018  (loaded, as in a job that already ran a batch)
    copy = pickle.loads(pickle.dumps(efficientnet))
    assert "model" not in copy.__dict__ and "model" in efficientnet.__dict__
    assert copy.version == efficientnet.version


def test_embed_job_with_prepare_workers_writes_the_same_tables(tiny_workspace, tmp_path):
    """The whole job on the tiny synthetic catalog (broken posters and trailers included)."""
    import json
    import shutil

    from features.jobs import EmbedConfig
    from features.jobs.embed import run_embed
    from features.store import FeatureStore
    from recsys.core.workspace import Workspace

    other = Workspace(tmp_path / "other").ensure()
    shutil.copytree(tiny_workspace.data_dir, other.data_dir, dirs_exist_ok=True)
    small = {"image": {"image_size": 64}, "video": {"frames": 2, "frame_size": 64}}
    tables = {}
    for ws, workers in ((tiny_workspace, 0), (other, 2)):
        cfg = EmbedConfig(
            encoder_options=small,
            prepare_workers=workers,
            batch_size=16,  # 5 batches in 3 chunks: most errors are found in a worker
            chunk_size=32,
            fuse=False,
        )
        run_embed(ws, ["image", "video"], config=cfg, progress=False)
        store = FeatureStore(ws.lancedb_uri)
        errors = store.errors().sort("modality", "id")
        tables[workers] = (
            {t: store.read(t).sort("id") for t in ("item_image", "item_video")},
            list(zip(errors["modality"], errors["id"], errors["reason"], strict=True)),
            json.loads(store.jobs()["summary"][-1]),
        )
    (rows_a, errors_a, summary_a), (rows_b, errors_b, summary_b) = tables[0], tables[2]
    for table, a in rows_a.items():
        b = rows_b[table]
        assert a.height > 60 and a["id"].to_list() == b["id"].to_list()
        assert a["content_hash"].to_list() == b["content_hash"].to_list()
        np.testing.assert_array_equal(np.stack(a["vector"]), np.stack(b["vector"]))
    reasons = {reason.partition(":")[0] for _, _, reason in errors_a}
    assert errors_a == errors_b  # the same per-item errors, found in workers or here
    assert {"missing_file", "empty_file", "corrupt_image", "corrupt_video"} == reasons
    for summary in (summary_a, summary_b):
        assert set(summary["item_image"]["timings"]) == {"prepare", "wait", "forward", "write"}
