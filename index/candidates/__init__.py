"""Candidate generation: sources (ANN, any scorer, item-item, fixed orders), a quota merger."""

from index.candidates.base import (
    CANDIDATE_SOURCES,
    AllowFn,
    Candidate,
    CandidateRequest,
    CandidateSource,
    SourceResult,
    register_source,
)
from index.candidates.generator import CandidateConfig, CandidateGenerator
from index.candidates.merge import merge_candidates, merge_order, provenance
from index.candidates.sources import (
    AnnSource,
    ExactFn,
    ItemItemSource,
    PopularitySource,
    RankedSource,
    ScoreFn,
    ScoreSource,
)
from index.candidates.sparse import block, row_sums

__all__ = [
    "CANDIDATE_SOURCES",
    "AllowFn",
    "AnnSource",
    "Candidate",
    "CandidateConfig",
    "CandidateGenerator",
    "CandidateRequest",
    "CandidateSource",
    "ExactFn",
    "ItemItemSource",
    "PopularitySource",
    "RankedSource",
    "ScoreFn",
    "ScoreSource",
    "SourceResult",
    "block",
    "merge_candidates",
    "merge_order",
    "provenance",
    "register_source",
    "row_sums",
]
