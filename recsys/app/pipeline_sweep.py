"""`python -m recsys.app.pipeline_sweep`: compare values of one PipelineConfig knob on validation.

Fits the production pipeline on the evaluation's data before the test cut (train + valid of
the primary split, the frame `recsys evaluate` trains on) once per value and prints what the
training procedure itself validates: the rankers' NDCG@10 on held-out label users, the label
chunk's candidate recall, the fresh-slot table and the fit time. The test part is never read,
so a value picked here is a validation choice (docs/RESULTS.md names the ones that were).

Example:
    python -m recsys.app.pipeline_sweep --workspace ws-ml label_windows 1 2 3
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace

from eval.config import EvalConfig
from eval.content import content_cutoff
from recsys.app.content import load_pipeline_content
from recsys.app.train import workspace_pipeline_config
from recsys.core.catalog import load_workspace_catalog
from recsys.core.interactions import IdVocab
from recsys.core.splits import make_split
from recsys.core.workspace import Workspace
from recsys.ranking.train import fit_pipeline


def sweep(ws: Workspace, knob: str, values: list) -> list[dict]:
    """One validation summary per value of ``knob`` (a PipelineConfig field)."""
    defaults = EvalConfig()
    catalog = load_workspace_catalog(ws)
    split = make_split(
        catalog.interactions,
        defaults.protocol,
        test_frac=defaults.test_frac,
        valid_frac=defaults.valid_frac,
    )
    vocab = IdVocab.from_ids(catalog.items["item_id"])
    content = load_pipeline_content(ws, vocab, as_of=content_cutoff(split))
    base = workspace_pipeline_config(ws)
    out = []
    for value in values:
        pipeline = fit_pipeline(
            split.train_valid(), catalog.items, content, replace(base, **{knob: value})
        )
        info = pipeline.info
        rankers = info["rankers"].items()
        out.append(
            {
                knob: value,
                **{f"{kind}_valid_ndcg10": r["valid_ndcg10"] for kind, r in rankers},
                **{f"{kind}_train_groups": r["train_groups"] for kind, r in rankers},
                "label_candidate_recall": info["label_candidate_recall"],
                "fresh_slots": info["fresh_slots"],
                "fit_seconds": info["fit_seconds"],
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workspace", default=None, help="workspace root (default $RECSYS_WORKSPACE)")
    p.add_argument("--verbose", action="store_true", help="log the training steps")
    p.add_argument("knob", help="a PipelineConfig field, e.g. label_windows")
    p.add_argument("values", nargs="+", type=json.loads, help="JSON values, e.g. 1 2 3")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING)
    sweep(Workspace.at(a.workspace), a.knob, a.values)


if __name__ == "__main__":
    main()
