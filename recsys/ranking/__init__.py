"""The one ranking pipeline: sources (index.candidates) → features → LambdaMART → rules → reasons.

Sits above ``recsys.models`` (its stage-1 models) and below serving and evaluation (its two
callers, which load it from a run the same way: ``load_pipeline``).
"""

from recsys.ranking.config import PipelineConfig
from recsys.ranking.pipeline import (
    PIPELINE,
    RankedList,
    RankingPipeline,
    RankRequest,
    load_pipeline,
)
from recsys.ranking.stage1 import ContentSpace
from recsys.ranking.train import fit_pipeline

__all__ = [
    "PIPELINE",
    "ContentSpace",
    "PipelineConfig",
    "RankRequest",
    "RankedList",
    "RankingPipeline",
    "fit_pipeline",
    "load_pipeline",
]
