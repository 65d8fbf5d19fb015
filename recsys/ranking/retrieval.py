"""The pipeline's candidate sources, built once per pipeline: per request each proposes its
top-q straight from an index, a sparse row sum or a precomputed order.

Indexes: one per content modality (present items), one over ALS item factors, one over the
fresh items (their per-modality vectors side by side, so one inner product is the fresh
score: a sum of per-modality cosines) and one over the tower's item vectors. The kind
follows the catalog size (``index.config.choose_kind``: exact ``faiss-flat`` below 50k items,
so small catalogs rank exactly as a full scan). Each index is searched for the quota plus
the request's excluded ids and re-scored exactly (``scores.rowdot``), so a source's order
and the features read the same numbers.

Where they come from: exact indexes are built from stage 1's arrays at load (a copy, a few
ms; every run saved before this module has those arrays, so old runs keep loading, and an
index cannot disagree with the arrays it was built from). Approximate ones (HNSW from 50k
items) take minutes to build on 2 cores, so ``save`` writes them next to the pipeline and a
load memory-maps them (workers share the pages), rebuilding any that is missing or was
built over other ids.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from index.base import Index, create_index, load_index
from index.candidates import (
    AllowFn,
    AnnSource,
    CandidateRequest,
    CandidateSource,
    ExactFn,
    PopularitySource,
    RankedSource,
    ScoreSource,
)
from index.config import IndexConfig, choose_kind
from recsys.ranking.profile import Profile
from recsys.ranking.scores import SparseScores, rowdot
from recsys.ranking.stage1 import Stage1


class Retrieval:
    """Every candidate source of one stage 1, by name (``source_order`` of the pipeline).

    ``index`` holds `IndexConfig` fields for the indexes ({} = kind by size, defaults);
    ``saved`` is where ``save`` wrote approximate indexes before (None: build them all).
    """

    def __init__(
        self,
        stage1: Stage1,
        fresh_max_count: int,
        index: dict[str, Any] | None = None,
        saved: Path | None = None,
    ):
        self.stage1 = stage1
        self.config = IndexConfig.model_validate(index or {})
        if self.config.metric != "ip":
            raise ValueError("the retrieval indexes rank by inner product: drop index.metric")
        self.indexes: dict[str, Index] = {}  # file name -> index, for ``save``
        facts, ids = stage1.facts, stage1.vocab.ids
        recent = np.where(facts.recent_likes > 0, np.log1p(facts.recent_likes), -np.inf)
        self.fixed: dict[str, CandidateSource] = {
            "popularity": PopularitySource(ids, np.log1p(facts.likes)),
            "recent_popularity": RankedSource(ids, recent, name="recent_popularity"),
        }
        factors = stage1.als.item_factors  # (n, f): ALS scores are inner products
        self._add(["als"], ids, lambda: factors, self._dot(factors), saved)
        for m, space in stage1.content.items():
            rows = np.flatnonzero(space.present)
            # a text query searches the text space too: one index, two sources
            names = [f"content:{m}", "query"] if m == "text" else [f"content:{m}"]
            # every row present (the usual case): the matrix itself, not a 5 GB copy at 1M
            rows_of = lambda space=space, rows=rows: (  # noqa: E731
                space.matrix if len(rows) == len(space.matrix) else space.matrix[rows]
            )
            self._add(names, ids[rows], rows_of, self._dot(space.matrix), saved)
        fresh = np.flatnonzero(facts.likes <= fresh_max_count)
        # no content at all: never a fresh score (a unit row is non-zero where present)
        keep = np.zeros(len(fresh), bool)
        for space in stage1.content.values():
            keep |= space.present[fresh]
        fresh = fresh[keep]
        self._add(["fresh"], ids[fresh], lambda: self._side_by_side(fresh), self._fresh, saved)
        tower = stage1.tower
        if tower is not None:
            items = np.asarray(tower.item_vectors(), np.float32)  # (n, dim+1)
            known = tower.item_vocab
            exact: ExactFn = lambda found, q: rowdot(items[known.index(found)], q)  # noqa: E731
            self._add(["tower"], known.ids, lambda: items, exact, saved)

    def save(self, directory: Path) -> None:
        """Write the approximate indexes (exact ones are rebuilt at load in milliseconds)."""
        for name, index in self.indexes.items():
            if not index.exact:
                index.save(directory / name, lineage={"source": "ranking pipeline"})

    # ------------------------------------------------------------------ per request
    def sources(self, profile: Profile, order: list[str]) -> list[CandidateSource]:
        """This request's sources in ``order``: the fixed ones plus its sparse row sums."""
        ids = self.stage1.vocab.ids
        # a query source only for a text query, the tower only with a user vector
        absent = {"query": profile.query is None, "tower": profile.tower_vector is None}
        out: list[CandidateSource] = []
        for name in order:
            if absent.get(name, False):
                continue
            if name == "ease" and self.stage1.ease is not None:
                out.append(_sparse("ease", ids, profile.ease))
            elif name == "itemknn":
                out.append(_sparse("itemknn", ids, profile.itemknn))
            elif name in self.fixed:
                out.append(self.fixed[name])
        return out

    def request(
        self, profile: Profile, exclude: np.ndarray, allowed: np.ndarray | None
    ) -> CandidateRequest:
        """The request every source reads: excluded ids, filters, one vector per space."""
        vectors = {f"content:{m}": v for m, v in profile.content.items()}
        if profile.query is not None and "text" in profile.content:
            vectors["query"] = profile.content["text"]
        if profile.user_factor is not None:
            vectors["als"] = profile.user_factor
        if profile.tower_vector is not None:
            vectors["tower"] = profile.tower_vector
        if profile.content:
            vectors["fresh"] = np.concatenate(
                [profile.content.get(m, np.zeros(s.matrix.shape[1], np.float32))
                 for m, s in self.stage1.content.items()]
            )  # fmt: skip
        allow: AllowFn | None = None
        ids = self.stage1.vocab.ids
        if allowed is not None:
            mask, vocab = allowed, self.stage1.vocab
            allow = lambda found: mask[vocab.index(found)]  # noqa: E731
        return CandidateRequest(
            exclude=ids[exclude],
            vectors=vectors,
            allowed=allow,
            allowed_ids=ids[allowed] if allowed is not None else None,  # vocab ids: sorted
        )

    # ------------------------------------------------------------------ building
    def _add(
        self,
        names: list[str],
        ids: np.ndarray,
        vectors: Callable[[], np.ndarray],
        exact: ExactFn,
        saved: Path | None,
    ) -> None:
        """One source per name over one inner-product index of ``vectors()`` (N, D).

        ``vectors`` is called only when the index must be built: a load that memory-maps a
        saved index never reads or copies the rows (at 100k items the content and fresh rows
        are 1.2 GB a worker would otherwise touch and copy at every load).
        """
        if not len(ids):  # nothing to index (a modality no item has): they propose nothing
            self.fixed.update({name: _sparse(name, ids, None) for name in names})
            return
        key = names[0].replace(":", "-")
        kind = choose_kind(len(ids), self.config)
        index = _load(saved / key, kind, ids) if saved is not None else None
        if index is None:
            index = create_index(kind, self.config)
            index.build(ids, np.ascontiguousarray(vectors(), np.float32))
        self.indexes[key] = index
        self.fixed.update({name: AnnSource(index, name=name, exact=exact) for name in names})

    def _dot(self, matrix: np.ndarray) -> ExactFn:
        vocab = self.stage1.vocab
        return lambda found, q: rowdot(matrix[vocab.index(found)], q)

    def _side_by_side(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), sum of dims): each modality's vectors, zero where the item has none."""
        parts = [
            np.where(s.present[rows, None], s.matrix[rows], 0.0).astype(np.float32)
            for s in self.stage1.content.values()
        ]
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(rows), 1), np.float32)

    def _fresh(self, found: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The fresh score of ``found``: their cosines to each modality's profile, summed in
        modality order (-inf where that is 0: no content shared with the profile)."""
        rows = self.stage1.vocab.index(found)
        total = np.zeros(len(rows), np.float32)
        start = 0
        for space in self.stage1.content.values():
            dim = space.matrix.shape[1]
            part = query[start : start + dim]
            start += dim
            if part.any():  # a modality without a profile adds nothing
                total += np.where(space.present[rows], rowdot(space.matrix[rows], part), 0.0)
        return np.where(total != 0, total, -np.inf).astype(np.float32)


def _load(directory: Path, kind: str, ids: np.ndarray) -> Index | None:
    """The index saved in ``directory`` if it is of ``kind`` over exactly ``ids``."""
    if not (directory / "manifest.json").exists():
        return None
    index = load_index(directory, mmap=True)
    same = index.kind == kind and np.array_equal(index.ids(), np.sort(ids))
    return index if same else None


def _sparse(name: str, ids: np.ndarray, scores: SparseScores | None) -> CandidateSource:
    """A source over the few items a history's row sum reached (none without history)."""
    cols, values = np.zeros(0, np.int64), np.zeros(0, np.float32)
    if scores is not None:
        cols, values = scores.proposable()
    return ScoreSource(name, ids[cols], lambda _history: values)
