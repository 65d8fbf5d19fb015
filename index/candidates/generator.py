"""Ask every configured source for candidates and merge them under per-source quotas."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from index.candidates.base import Candidate, CandidateRequest, CandidateSource, SourceResult
from index.candidates.merge import merge_candidates


class CandidateConfig(BaseModel):
    """Per-source quotas; their order is the merge priority (earlier wins the provenance)."""

    model_config = ConfigDict(extra="forbid")

    quotas: dict[str, int] = Field(
        default_factory=lambda: {"ann": 200, "itemknn": 200, "popularity": 50}
    )


class CandidateGenerator:
    """Fans a request out to the sources and merges their proposals.

    The caller builds the sources (from a run's index and models, higher up); a source is
    known by its ``name``, which must have a quota.
    """

    def __init__(self, sources: Sequence[CandidateSource], config: CandidateConfig | None = None):
        self.config = config or CandidateConfig()
        by_name = {s.name: s for s in sources}
        if len(by_name) < len(sources):
            names = [s.name for s in sources]
            raise ValueError(f"two sources share a name in {names}; name them apart")
        unknown = set(by_name) - set(self.config.quotas)
        if unknown:
            raise KeyError(f"sources without a quota: {sorted(unknown)}; add them to quotas")
        # sources follow the quota order; a quota without a loaded source is simply skipped
        self.sources = [by_name[n] for n in self.config.quotas if n in by_name]

    def propose(self, request: CandidateRequest) -> list[SourceResult]:
        """Every source's own ranked proposals, in merge order (what per-source recall and
        the ranker's source-rank features read)."""
        results, earlier = [], 0
        for source in self.sources:
            quota = self.config.quotas[source.name]
            # ask for enough that the quota fills even if every earlier pick is repeated
            results.append(source.generate(request, quota + earlier))
            earlier += quota
        return results

    def generate(self, request: CandidateRequest) -> list[Candidate]:
        return merge_candidates(self.propose(request), self.config.quotas)
