"""Trained models of one run, re-indexed onto the catalog's item order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from recsys.models.hybrid import HybridRecommender
from recsys.models.itemknn import ItemKNN
from recsys.models.popularity import Popularity


@dataclass(frozen=True)
class RunModels:
    """What the engine scores with; ``hybrid`` is None until the hybrid ranker is trained."""

    run: Run
    manifest: dict[str, Any]
    popularity: np.ndarray  # (n,) float32 log1p(count), catalog order
    pop_order: np.ndarray  # (n,) item indices, most popular first
    similarity: sp.csr_matrix | None  # (n, n) item-kNN, catalog order
    hybrid: HybridRecommender | None

    @property
    def version(self) -> str:
        return self.manifest.get("run_id") or self.run.name


def load_run_models(run: Run, vocab: IdVocab) -> RunModels:
    """Load the run's models; popularity is required, item-kNN and the hybrid are optional.

    Raises:
        FileNotFoundError: the run has no popularity model (not a finished training run).
    """
    if not run.model_dir(Popularity.name).exists():
        raise FileNotFoundError(
            f"{run.path} has no {run.model_dir(Popularity.name).relative_to(run.path)}: "
            "run `recsys train` then `recsys index`"
        )
    pop = Popularity.load(run.model_dir(Popularity.name))
    popularity = np.log1p(_to_catalog(pop.counts, pop.item_vocab, vocab)).astype(np.float32)
    similarity = None
    if run.model_dir(ItemKNN.name).exists():
        knn = ItemKNN.load(run.model_dir(ItemKNN.name))
        similarity = _matrix_to_catalog(knn.similarity, knn.item_vocab, vocab)
    hybrid = None
    # a model directory that does not load is a broken run: the reload fails, loudly
    if run.model_dir(HybridRecommender.name).exists():
        hybrid = HybridRecommender.load(run.model_dir(HybridRecommender.name))
    return RunModels(
        run=run,
        manifest=run.manifest(),
        popularity=popularity,
        pop_order=np.argsort(-popularity, kind="stable"),
        similarity=similarity,
        hybrid=hybrid,
    )


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
