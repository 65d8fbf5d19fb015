"""What the engine ranks with from one run: its ranking pipeline (THE scoring path)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from recsys.core.interactions import IdVocab
from recsys.core.runs import MANIFEST, Run
from recsys.ranking import RankingPipeline, load_pipeline

# What reading a truncated or half-copied artifact raises (npz, JSON, XGBoost, safetensors)
UNREADABLE = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)


class IncompleteRunError(ValueError):
    """The run is missing files or has unreadable ones: it must not be served."""


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
        IncompleteRunError: no manifest (`recsys train` writes it last, so a run without one
            is unfinished or half-copied), no pipeline, or a file that cannot be read.
    """
    try:
        manifest = json.loads((run.path / MANIFEST).read_text())
    except FileNotFoundError:
        raise IncompleteRunError(
            f"run {run.name} is incomplete: no {MANIFEST} (still being written or copied?)"
        ) from None
    except UNREADABLE as exc:
        raise IncompleteRunError(f"run {run.name} has an unreadable {MANIFEST}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise IncompleteRunError(f"run {run.name} has a {MANIFEST} that is not an object")
    try:
        pipeline = load_pipeline(run)
    except FileNotFoundError as exc:  # the message says which part and what to run
        raise IncompleteRunError(f"run {run.name} is incomplete: {exc}") from exc
    except UNREADABLE as exc:
        raise IncompleteRunError(
            f"run {run.name} has an unreadable file (truncated?): {type(exc).__name__}: {exc}"
        ) from exc
    return RunModels(
        run=run,
        manifest=manifest,
        pipeline=pipeline,
        catalog_index=vocab.index(pipeline.vocab.ids),
        pipeline_index=pipeline.vocab.index(vocab.ids),
    )
