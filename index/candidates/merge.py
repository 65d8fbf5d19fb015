"""Merge per-source proposals under quotas, de-duplicating and remembering provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from index.candidates.base import Candidate, SourceResult


def merge_candidates(
    results: Sequence[SourceResult], quotas: Mapping[str, int] | None = None
) -> list[Candidate]:
    """Merge source results in priority order (the order of ``results``).

    Each source adds at most ``quotas[source]`` *new* items (no quota = all it proposed);
    an item a source proposes that an earlier source already added costs no quota, but the
    source is recorded on it and the candidate keeps its best score. Output order is merge
    order: source priority first, then each source's own ranking.
    """
    quotas = quotas or {}
    merged: dict[int, Candidate] = {}
    for result in results:
        quota = quotas.get(result.source, len(result))
        added = 0
        for item, score in zip(result.ids.tolist(), result.scores.tolist(), strict=True):
            found = merged.get(item)
            if found is not None:
                if result.source not in found.source_scores:
                    found.sources.append(result.source)
                    found.source_scores[result.source] = score
                found.score = max(found.score, score)
            elif added < quota:
                merged[item] = Candidate(item, score, [result.source], {result.source: score})
                added += 1
    return list(merged.values())
