"""`recsys index`: build the FAISS index of the latest run and publish it as `current`.

A run that is already served is never written again: re-indexing it indexes a fork of it (its
files hard-linked, a new run id), published like any run, so every server hot-reloads onto the
new index and a killed `recsys index` leaves the served run as it was.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import get_args

from index.base import create_index
from index.clean import drop_bad_rows
from index.config import IndexConfig, IndexKind, choose_kind
from recsys.app.item_vectors import load_item_vectors
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from serving.answers import DEFAULT_KS as DEFAULT_ANSWER_KS
from serving.answers import write_answers
from serving.engine import EncoderPool, RecommendationEngine


def run_index(
    ws: Workspace,
    kind: str | None = None,
    config: IndexConfig | None = None,
    answer_ks: Sequence[int] = DEFAULT_ANSWER_KS,
) -> str:
    """Index the latest run's item vectors under ``<run>/index/``, rank every known user's
    requests at each of ``answer_ks`` with it (``serving.answers``), and publish the run.

    When the latest run is the served one, a fork of it (``Run.fork``) is indexed, marked
    latest and published instead.

    Args:
        ws: the workspace.
        kind: index kind (``faiss-flat``, ``faiss-hnsw``, ``faiss-ivfpq``); None picks by
            catalog size (see ``choose_kind``).
        config: index parameters; ``kind`` overrides ``config.kind``.
        answer_ks: the ``k`` of the answers precomputed per known user; () for none.

    Returns:
        A one-line summary.

    Raises:
        FileNotFoundError: no trained run, or no item vectors yet.
        ValueError: unknown ``kind``, or every vector is non-finite.
    """
    run = Run.latest(ws.artifacts_dir)
    if run is None:
        raise FileNotFoundError(
            f"no trained run in {ws.artifacts_dir}; run `recsys train` before `recsys index`"
        )
    start = time.perf_counter()
    found = load_item_vectors(ws, run)
    ids, vectors, skipped = drop_bad_rows(found.ids, found.vectors)
    if not len(ids):
        raise ValueError(f"all {len(found.ids)} {found.source} vectors are non-finite; re-embed")
    config = config or IndexConfig()
    if kind is not None and kind not in get_args(IndexKind):
        raise ValueError(f"unknown index kind {kind!r}; choose one of {get_args(IndexKind)}")
    if kind is not None:
        config = IndexConfig.model_validate({**config.model_dump(), "kind": kind})
    chosen = choose_kind(len(ids), config)
    index = create_index(chosen, config).build(ids, vectors)
    seconds = time.perf_counter() - start
    served = Run.current(ws.artifacts_dir)
    target = run.fork() if served is not None and served.path == run.path.resolve() else run
    lineage = {"source": found.source, **found.lineage, "run": target.name, "skipped": skipped}
    lineage["build_seconds"] = round(seconds, 3)
    index.save(target.index_dir, lineage=lineage)
    if target is not run:  # the manifest last: it marks the fork complete
        target.write_manifest({**run.manifest(), "run_id": target.name, "reindexed_from": run.name})
        target.mark_latest()
    answered = precompute_answers(ws, target, answer_ks)
    target.publish()
    dropped = sum(len(v) for v in skipped.values())
    note = f" ({dropped} bad rows skipped, listed in the manifest)" if dropped else ""
    forked = f" (re-index of the served {run.name})" if target is not run else ""
    return (
        f"index: {chosen} over {index.count:,} items (dim {index.dim}) from {found.source} "
        f"in {seconds:.1f}s{note}; {answered}; published {target.name} as current{forked}"
    )


def precompute_answers(ws: Workspace, run: Run, ks: Sequence[int]) -> str:
    """Rank the known users' requests at ``ks`` into ``run``'s answers by the engine a server
    loads (the same load, the same call); a one-line summary."""
    if not ks:
        return "no answers precomputed"
    start = time.perf_counter()
    engine = RecommendationEngine.load(ws, EncoderPool(), run=run, text_queries=False)
    n = write_answers(engine, ks)
    seconds = time.perf_counter() - start
    return f"{n:,} answers precomputed (k = {', '.join(map(str, ks))}) in {seconds:.1f}s"
