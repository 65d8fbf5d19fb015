"""Candidate generation: sources (ANN, any scorer, item-item, popularity), a quota merger."""

from index.candidates.base import (
    CANDIDATE_SOURCES,
    Candidate,
    CandidateRequest,
    CandidateSource,
    SourceResult,
    register_source,
)
from index.candidates.generator import CandidateConfig, CandidateGenerator
from index.candidates.merge import merge_candidates
from index.candidates.sources import (
    AnnSource,
    ItemItemSource,
    PopularitySource,
    ScoreFn,
    ScoreSource,
)

__all__ = [
    "CANDIDATE_SOURCES",
    "AnnSource",
    "Candidate",
    "CandidateConfig",
    "CandidateGenerator",
    "CandidateRequest",
    "CandidateSource",
    "ItemItemSource",
    "PopularitySource",
    "ScoreFn",
    "ScoreSource",
    "SourceResult",
    "merge_candidates",
    "register_source",
]
