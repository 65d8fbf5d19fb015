"""What the engine ranks with from one run: its ranking pipeline (THE scoring path)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recsys.core.interactions import IdVocab
from recsys.core.runs import Run
from recsys.ranking import RankingPipeline, load_pipeline


@dataclass(frozen=True)
class RunModels:
    """The run's pipeline and where its items sit in the served catalog."""

    run: Run
    manifest: dict[str, Any]
    pipeline: RankingPipeline
    catalog_index: np.ndarray  # (n_pipeline,) catalog index of each pipeline item, -1 gone
    pipeline_index: np.ndarray  # (n_catalog,) pipeline index of each catalog item, -1 new

    @property
    def version(self) -> str:
        return self.manifest.get("run_id") or self.run.name


def load_run_models(run: Run, vocab: IdVocab) -> RunModels:
    """Load the run's pipeline the way evaluation does (``load_pipeline``).

    Raises:
        FileNotFoundError: the run has no pipeline (not a finished `recsys train` run).
    """
    pipeline = load_pipeline(run)
    return RunModels(
        run=run,
        manifest=run.manifest(),
        pipeline=pipeline,
        catalog_index=vocab.index(pipeline.vocab.ids),
        pipeline_index=pipeline.vocab.index(vocab.ids),
    )
