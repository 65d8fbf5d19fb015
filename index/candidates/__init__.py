"""Candidate generation: sources (ANN, item-item, popularity) and a quota-based merger."""

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
from index.candidates.sources import AnnSource, ItemItemSource, PopularitySource

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
    "SourceResult",
    "merge_candidates",
    "register_source",
]
