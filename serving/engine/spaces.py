"""The run's published FAISS index over the content space (fused, else text vectors)."""

from __future__ import annotations

import logging
from dataclasses import replace

from index import load_index, read_manifest
from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from serving.engine.models import UNREADABLE, IncompleteRunError
from serving.engine.vectors import IndexSearch, ModalityVectors

log = logging.getLogger(__name__)


def with_published_index(
    run: Run, space: ModalityVectors | None, vocab: IdVocab
) -> ModalityVectors | None:
    """Search ``space`` with the run's published FAISS index when it indexes that space.

    Raises:
        IncompleteRunError: the published index cannot be loaded (missing or truncated
            files); a broken run must fail the reload rather than be served without its index.
    """
    if space is None or not run.index_dir.exists():
        return space
    try:
        return _published(run, space, vocab)
    except (*UNREADABLE, RuntimeError) as exc:  # FAISS reports a truncated file as RuntimeError
        raise IncompleteRunError(
            f"run {run.name} has an unreadable index: {type(exc).__name__}: {exc}"
        ) from exc


def _published(run: Run, space: ModalityVectors, vocab: IdVocab) -> ModalityVectors:
    manifest = read_manifest(run.index_dir)
    # `recsys index` names its source by modality ("fused", "hybrid") or table ("item_text")
    source = manifest.get("lineage", {}).get("source")
    if source not in (space.name, space.table) or manifest.get("dim") != space.matrix.shape[1]:
        log.warning(
            "published index (%s) does not cover the %s space; using an in-memory index",
            source,
            space.name,
        )
        return space
    index = load_index(run.index_dir, mmap=True)
    return replace(space, ann=IndexSearch(index, vocab, published=True))


def index_version(run: Run, space: ModalityVectors | None) -> str:
    """``<kind>@<run>`` for the published index, ``<space>-<kind>@<run>`` for an in-memory one."""
    if space is None:
        return "none"
    if space.ann.published:
        return f"{space.ann.kind}@{run.name}"
    return f"{space.name}-{space.ann.kind}@{run.name}"
