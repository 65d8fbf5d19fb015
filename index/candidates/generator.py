"""Ask every configured source for candidates and merge them under per-source quotas."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from index.candidates.base import Candidate, CandidateRequest, CandidateSource
from index.candidates.merge import merge_candidates


class CandidateConfig(BaseModel):
    """Per-source quotas; their order is the merge priority (earlier wins the provenance)."""

    model_config = ConfigDict(extra="forbid")

    quotas: dict[str, int] = Field(
        default_factory=lambda: {"ann": 200, "itemknn": 200, "popularity": 50}
    )


class CandidateGenerator:
    """Fans a request out to the sources and merges their proposals."""

    def __init__(self, sources: Sequence[CandidateSource], config: CandidateConfig | None = None):
        self.config = config or CandidateConfig()
        by_name = {s.name: s for s in sources}
        unknown = set(by_name) - set(self.config.quotas)
        if unknown:
            raise KeyError(f"sources without a quota: {sorted(unknown)}; add them to quotas")
        # sources follow the quota order; a quota without a loaded source is simply skipped
        self.sources = [by_name[n] for n in self.config.quotas if n in by_name]

    def generate(self, request: CandidateRequest) -> list[Candidate]:
        results, earlier = [], 0
        for source in self.sources:
            quota = self.config.quotas[source.name]
            # ask for enough that the quota fills even if every earlier pick is repeated
            results.append(source.generate(request, quota + earlier))
            earlier += quota
        return merge_candidates(results, self.config.quotas)

    @classmethod
    def from_run(cls, run_dir: Path, config: CandidateConfig | None = None) -> CandidateGenerator:
        """Sources from a published run: ``index/``, ``models/itemknn``, ``models/popularity``."""
        from index.base import load_index
        from index.candidates.sources import AnnSource, ItemItemSource, PopularitySource
        from recsys.models.itemknn import ItemKNN
        from recsys.models.popularity import Popularity

        run_dir = Path(run_dir)
        sources: list[CandidateSource] = []
        if (run_dir / "index" / "manifest.json").exists():
            sources.append(AnnSource(load_index(run_dir / "index", mmap=True)))
        if (run_dir / "models" / "itemknn" / "manifest.json").exists():
            sources.append(ItemItemSource(ItemKNN.load(run_dir / "models" / "itemknn")))
        if (run_dir / "models" / "popularity" / "manifest.json").exists():
            sources.append(PopularitySource(Popularity.load(run_dir / "models" / "popularity")))
        if not sources:
            raise FileNotFoundError(
                f"{run_dir} has no index or models; run `recsys train` and `recsys index`"
            )
        return cls(sources, config)
