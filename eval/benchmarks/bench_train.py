"""Hybrid ranker training: throughput, and `train --update` vs a full retrain (same run).

(a) Throughput = trained target positions per second of the training loop, on the demo
    catalog (synthetic, 2k items / 1k users / 100k interactions) and on MovieLens latest-small
    when it is present.
(b) Update vs retrain on the demo: the last 10% of interactions (by time) arrive after a base
    model was trained. A full retrain and a warm-start update (new interactions + replay) are
    scored on the same held-out set (each user's most recent positive). Goal: update NDCG@10
    within 1% of the retrain's in <= 25% of its time.

Content vectors come from ``--workspace``'s feature store when given; otherwise the items have
no content (ID-only), which the report says.

    python -m eval.benchmarks.bench_train
    python -m eval.benchmarks.bench_train --workspace workspace --skip-movielens
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from recsys.models.hybrid import HybridConfig, fit_hybrid, update_hybrid
from recsys.models.hybrid.data import temporal_split

MOVIELENS = Path(__file__).resolve().parents[3] / "shared" / "data" / "ml-latest-small"
GOAL_NDCG_GAP, GOAL_TIME_RATIO = 0.01, 0.25


def demo_data(workspace: Path | None) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, str]:
    """(interactions, item_ids, content, content source) of the demo catalog."""
    from recsys.app.content import load_item_content
    from recsys.core.catalog import load_workspace_catalog
    from recsys.core.workspace import Workspace

    if workspace is None:
        from recsys.datasets.preprocess import preprocess
        from recsys.datasets.synthetic import SynthConfig, generate

        tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
        generate(SynthConfig(media=False), tmp / "raw")
        ws = Workspace(tmp / "ws").ensure()
        preprocess(tmp / "raw", ws)
    else:
        ws = Workspace(workspace)
    catalog = load_workspace_catalog(ws)
    ids = catalog.items["item_id"].to_numpy()
    lineage: dict = {}
    content, mask = load_item_content(ws, ids, lineage)
    source = f"{lineage.get('item_content')} ({mask.sum()}/{len(mask)} items)"
    return catalog.interactions, ids, content, source


def movielens_data(src: Path) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, str] | None:
    if not (src / "ratings.csv").exists():
        return None
    from recsys.core.validation import conform
    from recsys.datasets.movielens import read_movielens

    raw = read_movielens(src)
    inter = conform(raw.interactions, "interactions", "ratings.csv")
    ids = raw.items["item_id"].to_numpy()
    return inter, ids, np.zeros((len(ids), 1), np.float32), "none (ID-only)"


def popularity_ndcg(inter: pl.DataFrame, ids: np.ndarray, cfg: HybridConfig) -> float:
    """NDCG@10 of most-popular (seen excluded) on the split ``fit_hybrid`` builds: the reference."""
    from recsys.core.interactions import IdVocab, positives, seen_pairs, user_item_matrix

    train, valid = temporal_split(inter, cfg.valid_last_n, cfg.valid_min_history)
    items = IdVocab.from_ids(ids)
    users = IdVocab.from_ids(inter["user_id"])
    held = user_item_matrix(positives(valid), users, items, weight=None)
    seen = user_item_matrix(seen_pairs(train), users, items, weight=None)
    counts = np.asarray(user_item_matrix(positives(train), users, items, None).sum(0)).ravel()
    rows = np.flatnonzero(np.diff(held.indptr) > 0)
    scores = np.tile(counts.astype(np.float32), (len(rows), 1))
    r, c = seen[rows].nonzero()
    scores[r, c] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    rel = np.take_along_axis(held[rows].toarray() > 0, top, axis=1)
    disc = 1 / np.log2(np.arange(2, 12))
    ideal = np.cumsum(disc)[np.minimum(np.diff(held[rows].indptr), 10) - 1]
    return float(((rel * disc).sum(1) / ideal).mean())


def throughput(name: str, data, cfg: HybridConfig, device: str | None) -> dict:
    inter, ids, content, source = data
    pop = popularity_ndcg(inter, ids, cfg)
    rec = fit_hybrid(inter, ids, content, cfg, log=lambda line: print(f"  [{name}] {line}"),
                     device=device)  # fmt: skip
    lin = rec.lineage
    rate = lin["trained_positions"] / max(lin["loop_seconds"], 1e-9)
    print(f"{name}: {rate:,.0f} interactions/s ({lin['trained_positions']:,} positions, "
          f"{lin['steps']} steps, loop {lin['loop_seconds']}s, total {lin['train_seconds']}s, "
          f"best valid NDCG@10 {lin['best_valid_ndcg10']:.4f} = "
          f"{lin['best_valid_ndcg10'] / max(pop, 1e-9):.2f}x popularity's {pop:.4f}, "
          f"content {source}, device {lin['device']})")  # fmt: skip
    return {"dataset": name, "interactions_per_s": rate, "popularity_ndcg10": pop, **lin}


def update_vs_retrain(data, cfg: HybridConfig, device: str | None) -> dict:
    inter, ids, content, _ = data
    train, valid = temporal_split(inter, cfg.valid_last_n, cfg.valid_min_history)
    cut = train["timestamp"].quantile(0.9)
    base = train.filter(pl.col("timestamp") <= cut)
    quiet = lambda line: None  # noqa: E731
    base_model = fit_hybrid(base, ids, content, cfg, log=quiet, device=device)
    start = time.perf_counter()
    full = fit_hybrid(train, ids, content, cfg, valid=valid, log=quiet, device=device)
    full_s = time.perf_counter() - start
    start = time.perf_counter()
    upd = update_hybrid(base_model, train, ids, content, valid=valid, log=print, device=device)
    upd_s = time.perf_counter() - start
    f, u = full.lineage["best_valid_ndcg10"], upd.lineage["best_valid_ndcg10"]
    gap, ratio = (f - u) / max(f, 1e-9), upd_s / full_s
    ok = gap <= GOAL_NDCG_GAP and ratio <= GOAL_TIME_RATIO
    print(f"update vs retrain: NDCG@10 {u:.4f} vs {f:.4f} (gap {gap:+.1%}, goal <= "
          f"{GOAL_NDCG_GAP:.0%}), time {upd_s:.1f}s vs {full_s:.1f}s (ratio {ratio:.2f}, goal <= "
          f"{GOAL_TIME_RATIO}) -> {'MET' if ok else 'NOT MET'}; base trained on "
          f"{base.height:,} of {train.height:,} interactions")  # fmt: skip
    return {"update_ndcg": u, "full_ndcg": f, "gap": gap, "update_s": upd_s, "full_s": full_s,
            "time_ratio": ratio, "goal_met": ok}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workspace", type=Path, default=None, help="demo workspace (with features)")
    p.add_argument("--movielens", type=Path, default=MOVIELENS, help="ml-latest-small folder")
    p.add_argument("--skip-movielens", action="store_true")
    p.add_argument("--skip-update", action="store_true")
    p.add_argument("--device", default=None, help="torch device (default: CUDA if available)")
    p.add_argument("--max-epochs", type=int, default=None)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a HybridConfig field (repeatable), e.g. --set lr=0.01",
    )
    p.add_argument("--json", type=Path, default=None, help="also write results here")
    p.add_argument("--quick", action="store_true", help="2 epochs, demo only, no update run")
    args, _ = p.parse_known_args(argv)  # tolerate flags meant for other benchmarks
    cfg = HybridConfig()
    if args.quick:
        args.max_epochs = args.max_epochs or 2
        args.skip_movielens = args.skip_update = True
    if args.max_epochs:
        cfg.max_epochs = args.max_epochs
    for item in args.set:
        field, value = item.split("=", 1)
        setattr(cfg, field, type(getattr(cfg, field))(value))
    results: dict = {"config": cfg.to_dict()}
    demo = demo_data(args.workspace)
    results["demo"] = throughput("demo", demo, cfg, args.device)
    if not args.skip_movielens:
        ml = movielens_data(args.movielens)
        if ml is None:
            print(f"movielens: skipped ({args.movielens} not found)")
        else:
            results["movielens"] = throughput("ml-latest-small", ml, cfg, args.device)
    if not args.skip_update:
        results["update"] = update_vs_retrain(demo, cfg, args.device)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
