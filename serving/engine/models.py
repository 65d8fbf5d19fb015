"""Trained models of one run, re-indexed onto the catalog's item order."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys.core.interactions import IdVocab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunModels:
    """What the engine scores with; ``hybrid`` is None until the hybrid ranker is trained."""

    run_dir: Path
    manifest: dict[str, Any]
    popularity: np.ndarray  # (n,) float32 log1p(count), catalog order
    pop_order: np.ndarray  # (n,) item indices, most popular first
    similarity: sp.csr_matrix | None  # (n, n) item-kNN, catalog order
    hybrid: Any | None  # recsys.models.hybrid.HybridRecommender

    @property
    def version(self) -> str:
        return self.manifest.get("run_id") or self.run_dir.name


def load_run_models(run_dir: Path, vocab: IdVocab) -> RunModels:
    """Load ``run_dir/models/*``; popularity is required, the others are optional."""
    from recsys.models.itemknn import ItemKNN
    from recsys.models.popularity import Popularity

    models = run_dir / "models"
    if not (models / "popularity").exists():
        raise FileNotFoundError(
            f"{run_dir} has no models/popularity: run `recsys train` then `recsys index`"
        )
    pop = Popularity.load(models / "popularity")
    counts = _to_catalog(pop.counts, pop.item_vocab, vocab)
    popularity = np.log1p(counts).astype(np.float32)
    similarity = None
    if (models / "itemknn").exists():
        knn = ItemKNN.load(models / "itemknn")
        similarity = _matrix_to_catalog(knn.similarity, knn.item_vocab, vocab)
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    return RunModels(
        run_dir=run_dir,
        manifest=manifest,
        popularity=popularity,
        pop_order=np.argsort(-popularity, kind="stable"),
        similarity=similarity,
        hybrid=_load_hybrid(models / "hybrid"),
    )


def _load_hybrid(directory: Path) -> Any | None:
    if not directory.exists():
        return None
    try:
        from recsys.models.hybrid import HybridRecommender
    except ImportError as exc:
        log.warning("models/hybrid exists but the hybrid ranker is not importable: %s", exc)
        return None
    return HybridRecommender.load(directory)


def _to_catalog(values: np.ndarray, model_vocab: IdVocab, vocab: IdVocab) -> np.ndarray:
    out = np.zeros(len(vocab), np.float32)
    pos = vocab.index(model_vocab.ids)
    out[pos[pos >= 0]] = values[pos >= 0]
    return out


def _matrix_to_catalog(matrix: sp.csr_matrix, model_vocab: IdVocab, vocab: IdVocab):
    if np.array_equal(model_vocab.ids, vocab.ids):
        return matrix.tocsr()
    # Items trained on but no longer in the catalog drop out; new catalog items get empty rows.
    pos = vocab.index(model_vocab.ids)
    keep = np.flatnonzero(pos >= 0)
    remap = sp.csr_matrix(
        (np.ones(len(keep), np.float32), (keep, pos[keep])), shape=(len(model_vocab), len(vocab))
    )
    return (remap.T @ matrix @ remap).tocsr()
