"""`python -m eval`: run_evaluate with every EvalConfig knob on the command line.

Example (the MovieLens results in docs/RESULTS.md):
    python -m eval --workspace ws-ml --report ws-ml/reports/ml --grid thorough --pipeline-ablation
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from eval.config import EvalConfig
from recsys.app.evaluate import run_evaluate
from recsys.core.workspace import Workspace


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m eval", description=__doc__.splitlines()[0])
    p.add_argument("--workspace", default=None, help="workspace root (default $RECSYS_WORKSPACE)")
    p.add_argument(
        "--report", type=Path, default=None, help="report dir (default <ws>/reports/latest)"
    )
    p.add_argument("--protocol", default="per_user_temporal")
    p.add_argument("--extra-protocol", action="append", default=[], dest="extra_protocols")
    p.add_argument("--grid", default=None, choices=["fast", "thorough"])
    p.add_argument("--thorough", action="store_true", help="EvalConfig.thorough() defaults")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--no-hybrid", action="store_true")
    p.add_argument("--hybrid-ablation", action="store_true")
    p.add_argument("--hybrid-on-extra", action="store_true")
    p.add_argument(
        "--hybrid",
        type=json.loads,
        default=None,
        metavar="JSON",
        help="HybridConfig overrides, e.g. '{\"max_epochs\": 10}'",
    )
    p.add_argument("--no-pipeline", action="store_true")
    p.add_argument(
        "--pipeline-ablation",
        action="store_true",
        help="retrain the pipeline without each modality",
    )
    p.add_argument(
        "--pipeline",
        type=json.loads,
        default=None,
        metavar="JSON",
        help="PipelineConfig overrides over <workspace>/pipeline.json, e.g. '{\"tower\": true}'",
    )
    p.add_argument("--verbose", action="store_true", help="log progress (pipeline training)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING)
    ws = Workspace.at(a.workspace)
    fields = {"protocol": a.protocol, "n_boot": a.n_boot, "hybrid": not a.no_hybrid}
    if a.grid:
        fields["grid"] = a.grid
    if a.extra_protocols:
        fields["extra_protocols"] = a.extra_protocols
    if a.hybrid is not None:
        fields["hybrid_overrides"] = a.hybrid
    if a.hybrid_ablation:
        fields["hybrid_ablation"] = True
    if a.hybrid_on_extra:
        fields["hybrid_on_extra"] = True
    if a.no_pipeline:
        fields["pipeline"] = False
    if a.pipeline_ablation:
        fields["pipeline_ablation"] = True
    if a.pipeline is not None:
        fields["pipeline_overrides"] = a.pipeline
    cfg = EvalConfig.thorough(**fields) if a.thorough else EvalConfig(**fields)
    print(run_evaluate(ws, a.report or ws.reports_dir / "latest", cfg))


if __name__ == "__main__":
    main()
