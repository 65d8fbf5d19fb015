"""The live path's candidate stage: one snapshot's `index.candidates` sources, built at load."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from index.candidates import (
    AnnSource,
    Candidate,
    CandidateConfig,
    CandidateGenerator,
    CandidateRequest,
    CandidateSource,
    ItemItemSource,
    PopularitySource,
    SourceResult,
)
from recsys.core.interactions import IdVocab
from serving.engine.models import RunModels
from serving.engine.vectors import ModalityVectors

# merge priority (the quota order): the first source to propose an item owns its provenance
SOURCE_ORDER = ("ann", "itemknn", "popularity", "query")


class _WithVector(CandidateSource):
    """A source asked with its own vector: the text query, not the taste vector, for "query".

    Built per request; the generator fans one request out, and only this source needs
    another vector (in another space, of another dimension).
    """

    kind = "with-vector"  # never registered: a per-request wrapper, not a configurable kind

    def __init__(self, source: CandidateSource, vector: np.ndarray):
        super().__init__(source.name)
        self.source = source
        self.vector = vector

    def generate(self, request: CandidateRequest, k: int) -> SourceResult:
        return self.source.generate(replace(request, vector=self.vector), k)


@dataclass(frozen=True)
class CandidateSources:
    """The sources of one snapshot, all keyed by catalog item ids.

    Attributes:
        vocab: the catalog vocabulary; candidates go back to its dense indices.
        popularity: most-liked items, always present.
        itemknn: co-occurrence with the recent likes; None when the run has no item-kNN.
        ann: nearest items to the taste vector in the user space; None without one.
        query: nearest items to the text-query embedding; None without text vectors.
    """

    vocab: IdVocab
    popularity: PopularitySource
    itemknn: ItemItemSource | None
    ann: AnnSource | None
    query: AnnSource | None

    @classmethod
    def build(
        cls,
        vocab: IdVocab,
        models: RunModels,
        user_space: ModalityVectors | None,
        text: ModalityVectors | None,
    ) -> CandidateSources:
        """Sources over the snapshot's arrays (catalog order) and its spaces' indexes."""
        # every index here is keyed by item ids (in-memory ones by vocab.ids of their rows,
        # the published one by the ids `recsys index` wrote); indices() drops non-catalog ids
        return cls(
            vocab=vocab,
            popularity=PopularitySource(vocab.ids, models.popularity),
            itemknn=(
                None if models.similarity is None else ItemItemSource(vocab.ids, models.similarity)
            ),
            ann=None if user_space is None else AnnSource(user_space.ann.index),
            query=None if text is None else AnnSource(text.ann.index, name="query"),
        )

    def generate(
        self,
        history: np.ndarray,
        exclude: np.ndarray,
        taste: np.ndarray | None,
        query: np.ndarray | None,
        budget: int,
    ) -> list[Candidate]:
        """Merged candidates (item ids), up to ``budget`` new ones per source.

        Args:
            history: recent liked item ids, oldest first (item-kNN's input).
            exclude: item ids no source may propose (the seen items).
            taste: the user's vector in the user space; None skips the ANN source (its
                history-mean fallback is the same mean `_taste_vector` already tried).
            query: the text-query embedding; None skips the query source.
            budget: each source's quota.
        """
        sources: list[CandidateSource] = [self.popularity]
        if self.itemknn is not None:
            sources.append(self.itemknn)
        if self.ann is not None and taste is not None:
            sources.append(self.ann)
        if self.query is not None and query is not None:
            sources.append(_WithVector(self.query, query))
        # quotas follow k, so the (cheap) generator is built per request
        config = CandidateConfig(quotas={name: budget for name in SOURCE_ORDER})
        generator = CandidateGenerator(sources, config)
        return generator.generate(CandidateRequest(history=history, exclude=exclude, vector=taste))

    def indices(self, found: list[Candidate]) -> np.ndarray:
        """Sorted, unique dense catalog indices (C,) int64 of ``found``."""
        pos = self.vocab.index(np.asarray([c.item_id for c in found], np.int64))
        return np.unique(pos[pos >= 0])  # a published index may hold ids the catalog dropped
