"""Embedding job overhead: pipeline items/s ÷ raw encoder items/s on the same inputs, per modality.

The raw reference is ``encoder.encode`` over the same inputs in the same batches, measured in the
same run (model loaded and warmed first). The pipeline adds input building, content hashing,
chunked LanceDB commits, the error table and the progress bar. Goal: ratio >= 0.9. Also reports
an incremental re-run (nothing changed) ÷ full run time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from features.jobs.config import JOB_MODALITIES, EmbedConfig
from features.store import FeatureStore


def _workspace(root: Path, items: int):
    from recsys.core.workspace import Workspace
    from recsys.datasets.preprocess import preprocess
    from recsys.datasets.synthetic import SynthConfig, generate

    users = max(20, items // 2)
    generate(SynthConfig(items=items, users=users, interactions=users * 20, seed=0), root / "raw")
    ws = Workspace(root / "ws").ensure()
    preprocess(root / "raw", ws)
    return ws


def _device(encoder) -> str:
    inner = getattr(encoder, "frame_encoder", encoder)  # the video encoder wraps an image one
    return str(getattr(encoder, "device", None) or getattr(inner, "device", "?"))


def _raw_seconds(encoder, inputs: list, batch_size: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(inputs), batch_size):
        encoder.encode_batch(inputs[i : i + batch_size])
    return time.perf_counter() - start


def bench_modality(ws, modality: str, cfg: EmbedConfig, repeats: int) -> str:
    from features.jobs.engines import LocalEngine
    from features.jobs.inputs import build_inputs
    from features.jobs.pool import encoder_factory
    from features.jobs.runner import encode_modality
    from recsys.core.catalog import load_workspace_catalog

    catalog = load_workspace_catalog(ws)
    factory = encoder_factory(modality, cfg, catalog)
    try:
        encoder = factory()
        encoder.encode_batch(build_inputs(catalog, modality, cfg).inputs[:4])  # load + warm up
    except Exception as exc:  # report and move on to the next modality
        return f"{modality:>12}: encoder unavailable ({type(exc).__name__}: {exc})"
    raw_total = pipe_total = 0.0
    ratios, n = [], 0
    for r in range(repeats):
        # Alternate which goes first so a noisy, shared CPU does not favour one side.
        order = ("raw", "pipe") if r % 2 == 0 else ("pipe", "raw")
        times = {}
        for what in order:
            if what == "raw":
                inputs = build_inputs(catalog, modality, cfg).inputs
                times["raw"] = _raw_seconds(encoder, inputs, cfg.batch_size)
                continue
            store = FeatureStore(str(ws.root / f"bench-lancedb-{modality}-{r}"))
            start = time.perf_counter()
            spec = build_inputs(catalog, modality, cfg)  # input building counts as pipeline
            encode_modality(
                store,
                spec,
                encoder,
                factory,
                LocalEngine(),
                f"bench-{r}",
                cfg.batch_size,
                cfg.chunk_size,
                progress=False,
            )
            times["pipe"] = time.perf_counter() - start
            n = len(spec.inputs)  # what both sides encode (path errors excluded)
        raw_total += times["raw"]
        pipe_total += times["pipe"]
        ratios.append(times["raw"] / times["pipe"])  # same items: rate ratio = time ratio
    raw_rate, pipe_rate = n * repeats / raw_total, n * repeats / pipe_total
    return (
        f"{modality:>12}: {n} items x {repeats}, raw {raw_rate:.1f} items/s, "
        f"pipeline {pipe_rate:.1f} items/s, ratio {pipe_rate / raw_rate:.3f} "
        f"(per run: {', '.join(f'{x:.3f}' for x in ratios)}; goal >= 0.9) "
        f"[{encoder.name} on {_device(encoder)}]"
    )


def bench_incremental(ws, modalities: list[str], cfg: EmbedConfig) -> str:
    from features.jobs.embed import run_embed

    start = time.perf_counter()
    run_embed(ws, modalities, config=cfg, progress=False)
    full = time.perf_counter() - start
    start = time.perf_counter()
    run_embed(ws, modalities, config=cfg, progress=False)
    again = time.perf_counter() - start
    return (
        f"incremental re-run (nothing changed) {again:.2f}s ÷ full run {full:.2f}s "
        f"= {again / full:.3f} (modalities: {','.join(modalities)}; includes model loading)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--modalities", default="text,image,video")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="100 items, 1 repeat")
    args, _ = parser.parse_known_args(argv)
    items, repeats = (100, 1) if args.quick else (args.items, args.repeats)
    modalities = [m for m in args.modalities.split(",") if m in JOB_MODALITIES]
    cfg = EmbedConfig(batch_size=args.batch_size)
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        ws = _workspace(Path(tmp), items)
        print(
            f"bench_embed: synthetic catalog, {items} items, batch {cfg.batch_size}, "
            f"chunk {cfg.chunk_size}",
            flush=True,
        )
        for modality in modalities:
            print(bench_modality(ws, modality, cfg, repeats), flush=True)
        print(bench_incremental(ws, modalities, cfg), flush=True)


if __name__ == "__main__":
    main()
