"""Workspaces at catalog scale (10k, 100k, 1M items) for the serving and training benchmarks.

The same stages `make run` chains, with one substitution: content vectors are synthetic,
because encoding 100k posters and texts on two CPU cores would take hours and serving cost
depends on sizes, not on what vectors mean. They still say something: each is a fixed random
projection of the generator's item style latent (``truth.npz``) plus noise, so neighbours in
them are items of similar style. They are written through the feature store with a completion
record, fused by the real embed job (with the real ratings factors) and indexed by
`recsys index` like encoder output; the ranking pipeline trains with its defaults.

A built workspace is reused while its ``bench_scale.json`` matches the request.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from recsys.core.workspace import Workspace

# synthetic content tables: the modality and the dimension of the encoder it stands in for
SYNTHETIC_MODALITIES = {"text": 384, "image": 1280}  # MiniLM, EfficientNet-Lite0
NOISE = 0.5  # per-item noise next to the projected style (unit-variance components)


@dataclass(frozen=True)
class ScaleSpec:
    items: int
    users: int
    interactions: int
    modalities: tuple[str, ...] = ("text", "image")
    seed: int = 0

    @classmethod
    def for_items(cls, items: int, modalities: tuple[str, ...] = ("text", "image")) -> ScaleSpec:
        """Users = items / 5 (at least 1,000), 40 interactions per user on average."""
        users = max(1_000, items // 5)
        return cls(items, users, users * 40, modalities)


def build(root: Path, spec: ScaleSpec, log=print) -> tuple[Workspace, dict[str, float]]:
    """The workspace at ``root`` for ``spec`` (built, or reused) and its stage seconds."""
    from features.jobs.embed import run_embed
    from recsys.app.publish import run_index
    from recsys.app.train import run_train
    from recsys.datasets.preprocess import preprocess
    from recsys.datasets.synthetic import SynthConfig, generate

    ws = Workspace.at(root)
    marker = ws.root / "bench_scale.json"
    wanted = json.loads(json.dumps(asdict(spec)))  # as the marker stores it (tuples as lists)
    if marker.exists() and json.loads(marker.read_text())["spec"] == wanted:
        log(f"scale: reusing {ws.root} ({spec.items:,} items)")
        return ws, json.loads(marker.read_text())["seconds"]
    ws.ensure()
    raw = ws.raw_dir / "synthetic"
    cfg = SynthConfig(
        items=spec.items,
        users=spec.users,
        interactions=spec.interactions,
        seed=spec.seed,
        media=False,
    )
    seconds: dict[str, float] = {}

    def stage(name: str, fn) -> None:
        t0 = time.perf_counter()
        line = fn()
        seconds[name] = round(time.perf_counter() - t0, 1)
        log(f"scale: {name} {seconds[name]:.1f}s: {str(line or '')[:160]}")

    stage("synth", lambda: generate(cfg, raw))
    stage("preprocess", lambda: preprocess(raw, ws))
    stage("vectors", lambda: write_synthetic_vectors(ws, raw / "truth.npz", spec))
    stage("embed", lambda: run_embed(ws, modalities=["ratings"], progress=False))
    stage("train", lambda: run_train(ws, log=lambda line: None))
    stage("index", lambda: run_index(ws))
    marker.write_text(json.dumps({"spec": asdict(spec), "seconds": seconds}, indent=2))
    return ws, seconds


def write_synthetic_vectors(ws: Workspace, truth: Path, spec: ScaleSpec) -> str:
    """``item_<modality>`` tables of projected style latents, recorded as complete."""
    from features.store import FeatureStore

    world = np.load(truth)
    ids, style = world["item_ids"].astype(np.int64), world["item_style"].astype(np.float32)
    store = FeatureStore(ws.lancedb_uri)
    job = f"bench-scale-{spec.seed}"
    rng = np.random.default_rng(spec.seed + 1)
    for modality in spec.modalities:
        dim = SYNTHETIC_MODALITIES[modality]
        projection = rng.standard_normal((style.shape[1], dim)).astype(np.float32)
        version = f"synthetic-style-{dim}d-s{spec.seed}"
        # written 100k items at a time, as an embed job commits chunks: one 1M x 1,280-d
        # write held the array and its Arrow copy at once (~15 GB on the 24 GB box)
        for lo in range(0, len(ids), 100_000):
            block = style[lo : lo + 100_000] @ projection
            block += NOISE * rng.standard_normal(block.shape).astype(np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            part = ids[lo : lo + len(block)]
            store.write(
                "item", modality, part, block, encoder="synthetic", encoder_version=version,
                content_hashes=[str(i) for i in part], job_id=job,
            )  # fmt: skip
        store.mark_complete("item", modality, version, job)
    return f"{len(ids):,} items x {', '.join(spec.modalities)}"
