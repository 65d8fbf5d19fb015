"""Per-request cost of ``RankingPipeline.recommend`` against catalog size: ms and memory.

A synthetic stage 1 stands in for a fitted one (fitting EASE or ALS at 100k items is not
what is measured): Zipf-like like counts, users whose histories follow them, random
item-kNN neighbours (100 per item), random ALS factors (64), clustered unit content vectors
("text" 384-d, "image" 512-d, 98 % present), a dense random EASE B while the catalog is
within ``ease_max_items`` (skipped above, as stage 1 does), no tower (off by default), and
an XGBoost ranker trained on random rows (100 trees, depth 4: the real one's inference
cost). Requests are known users' lists of 20 with explanations, one math thread (what
serving runs with). Goal: time per request grows far slower than the catalog.

    python -m eval.benchmarks.bench_request_cost --sizes 1000,10000,100000
    python -m eval.benchmarks.bench_request_cost --quick
    python -m eval.benchmarks.bench_request_cost --sizes 100000 \
        --index '{"hnsw": {"m": 16, "ef_construction": 40}}'  # HNSW built ~4x faster

The build column is the one-off cost of a pipeline's indexes (a saved pipeline loads its
HNSW indexes instead); the request columns are what each ``recommend`` costs.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

from recsys.core.histories import Histories
from recsys.core.interactions import IdVocab
from recsys.models.als import ALS
from recsys.models.ease import EASE
from recsys.models.itemknn import ItemKNN
from recsys.ranking import ContentSpace, PipelineConfig, RankingPipeline, RankRequest
from recsys.ranking.boosting import RankingGroups
from recsys.ranking.features import feature_names
from recsys.ranking.ranker import Ranker
from recsys.ranking.stage1 import ItemFacts, Stage1

DIMS = {"image": 512, "text": 384}
USERS = 2_000


def synthetic_stage1(n: int, cfg: PipelineConfig, rng: np.random.Generator) -> Stage1:
    vocab, users = IdVocab(np.arange(n, dtype=np.int64)), IdVocab(np.arange(USERS))
    weight = 1.0 / np.arange(1, n + 1) ** 0.8  # Zipf-like popularity, item 0 the most liked
    likes = np.floor(3 + 2000 * weight / weight[0] + rng.integers(0, 4, n)).astype(np.float32)
    new = rng.random(n) < 0.1  # ~10 % new titles ("fresh": at most 2 likes)
    likes[new] = rng.integers(0, 3, int(new.sum()))
    p = weight / weight.sum()
    liked, seen = {}, {}
    for u in range(USERS):
        h = int(np.clip(rng.lognormal(3.0, 0.8), 3, 300))  # median 20 likes, a long tail
        items = np.unique(rng.choice(n, size=h, p=p))
        liked[u] = rng.permutation(items)  # "oldest first"
        seen[u] = np.union1d(items, rng.choice(n, size=h // 3))
    genres = sp.random(n, 20, density=0.1, format="csr", random_state=0, dtype=np.float32)
    genres.data[:] = 1.0
    facts = ItemFacts(
        likes=likes,
        recent_likes=np.where(rng.random(n) < 0.5, likes // 4, 0).astype(np.float32),
        age_days=rng.uniform(0, 3000, n).astype(np.float32),
        year=rng.integers(1950, 2024, n).astype(np.float32),
        mean_rating=rng.uniform(1, 5, n).astype(np.float32),
        n_ratings=likes.copy(),
        genres=genres,
    )
    ease = None
    if n <= cfg.ease_max_items:
        active = np.flatnonzero(likes > 0)
        b = rng.standard_normal((len(active), len(active)), dtype=np.float32) * 0.01  # (m, m)
        np.fill_diagonal(b, 0.0)
        ease = EASE(vocab, users, active, b, cfg.ease_lambda)
    rows = np.repeat(np.arange(n), 100)
    sim = sp.csr_matrix(
        (rng.random(len(rows), dtype=np.float32), (rows, rng.integers(0, n, len(rows)))), (n, n)
    )
    content = {}
    for m, dim in DIMS.items():
        centres = rng.standard_normal((max(10, n // 1000), dim)).astype(np.float32)
        x = centres[rng.integers(0, len(centres), n)]
        x += 0.6 * rng.standard_normal((n, dim), dtype=np.float32)
        content[m] = ContentSpace.from_vectors(x, rng.random(n) < 0.98)
    return Stage1(
        vocab=vocab,
        histories=Histories(liked, seen),
        facts=facts,
        ease=ease,
        itemknn=ItemKNN(vocab, users, sim, 100),
        als=ALS(vocab, users, 0.1 * rng.standard_normal((n, 64), dtype=np.float32), 0.05, 10.0),
        content=content,
        tower=None,
    )


def random_ranker(cfg: PipelineConfig, rng: np.random.Generator) -> Ranker:
    names = feature_names(sorted(DIMS))
    rows, groups = 20_000, 100
    x = rng.standard_normal((rows, len(names))).astype(np.float32)
    x[rng.random(x.shape) < 0.3] = np.nan
    y = (rng.random(rows) < 0.05).astype(np.float32)
    data = RankingGroups(x, y, np.full(groups, rows // groups), np.arange(groups))
    return Ranker.fit(data, names, cfg, ("binary:logistic",))[0]


def bench_size(n: int, args: argparse.Namespace) -> dict:
    rng = np.random.default_rng(args.seed)
    cfg = PipelineConfig(
        n_estimators=100,
        early_stopping_rounds=100,
        fresh_slots=0,
        index=json.loads(args.index),
        ease_max_items=args.ease_max_items,
    )
    start = time.perf_counter()
    stage1 = synthetic_stage1(n, cfg, rng)
    ranker = random_ranker(cfg, rng)
    synth_s = time.perf_counter() - start
    start = time.perf_counter()
    pipeline = RankingPipeline(stage1, {"warm": ranker, "cold": ranker}, cfg, ["t"] * n)
    build_s = time.perf_counter() - start  # the indexes, once per loaded pipeline
    users = rng.choice(USERS, size=args.requests, replace=False)
    requests = [RankRequest(user_id=int(u), k=20) for u in users]
    for req in requests[:10]:  # warm-up: first-call costs (lazy imports, caches)
        pipeline.recommend(req)
    times, cands = [], []
    for req in requests:
        t = time.perf_counter()
        ranked = pipeline.recommend(req)
        times.append(1000 * (time.perf_counter() - t))
        cands.append(len(ranked.candidates))
    tracemalloc.start()
    peaks = []
    for req in requests[: args.memory_requests]:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        pipeline.recommend(req)
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()
    kinds = sorted({index.kind for index in pipeline.retrieval.indexes.values()})
    row = {
        "n": n,
        "kinds": ",".join(kinds),
        "ease": "dense" if stage1.ease is not None else "skipped",
        "synth_s": synth_s,
        "build_s": build_s,
        "p50": float(np.median(times)),
        "p90": float(np.percentile(times, 90)),
        "mean": float(np.mean(times)),
        "peak_mib": float(np.median(peaks)) / 2**20,
        "peak_max_mib": float(np.max(peaks)) / 2**20,
        "candidates": float(np.mean(cands)),
    }
    print(
        f"{n:>9,} | {row['kinds']:<22} | {row['ease']:<7} | {build_s:7.1f} s | "
        f"{row['p50']:7.1f} {row['p90']:7.1f} {row['mean']:7.1f} | "
        f"{row['peak_mib']:6.2f} {row['peak_max_mib']:6.2f} | {row['candidates']:6.0f}",
        flush=True,
    )
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated items")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--memory-requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index", default="{}", help="PipelineConfig.index (IndexConfig JSON)")
    parser.add_argument(
        "--ease-max-items", type=int, default=PipelineConfig.ease_max_items,
        help="0 compares every size without EASE (the same candidate budget at every size)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="1k and 10k items, 100 requests")
    args, _ = parser.parse_known_args(argv)  # tolerate flags meant for other benchmarks
    if args.quick:
        args.sizes, args.requests = "1000,10000", 100
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one math thread per request, as `recsys serve` runs
        print(
            "    items | indexes                | EASE    |   build |  ms p50     p90    mean"
            " | MiB p50    max | cands"
        )
        rows = [bench_size(int(s), args) for s in args.sizes.split(",")]
    first, last = rows[0], rows[-1]
    print(
        f"catalog x{last['n'] / first['n']:,.0f}: time per request x"
        f"{last['p50'] / first['p50']:.2f}, peak memory per request x"
        f"{last['peak_mib'] / max(first['peak_mib'], 1e-9):.2f}"
    )


if __name__ == "__main__":
    main()
