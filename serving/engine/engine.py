"""RecommendationEngine: the run's ranking pipeline, item lookups and search over one snapshot."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from features.store import ITEM_MODALITIES, table_name
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from recsys.ranking import RankedList, RankRequest
from serving.engine.answer_store import AnswerStore
from serving.engine.encoders import EncoderPool, EncoderUnavailable
from serving.engine.explain import explain_similar
from serving.engine.models import IncompleteRunError
from serving.engine.snapshot import Snapshot, load_snapshot
from serving.engine.vectors import ModalityVectors

log = logging.getLogger(__name__)


class UnknownItemError(KeyError):
    """An item id that is not in the catalog."""


class ModalityUnavailableError(LookupError):
    """The requested modality has no vectors in the feature store (message says how to fix)."""


@dataclass(frozen=True)
class Recommendation:
    item_id: int
    title: str
    score: float
    rank: int
    reason: str
    poster_url: str | None
    reason_kind: str | None = None  # the feature group behind the reason (text, image, …)
    contributions: dict[str, float] | None = None  # the ranker's largest feature contributions


@dataclass(frozen=True)
class RecommendationList:
    items: list[Recommendation]
    cold_start: bool
    model_version: str
    index_version: str


class RecommendationEngine:
    """Stateless over requests: every method reads only the snapshot it was built with."""

    def __init__(self, snapshot: Snapshot, encoders: EncoderPool):
        self.snap = snapshot
        self.encoders = encoders
        # answers ranked with the run before it was published; set by ``serving.answers``
        # once they are checked against this engine (None: rank every request)
        self.answers: AnswerStore | None = None
        self._demo_cache: dict[int, list[tuple[int, int]]] = {}

    @classmethod
    def load(
        cls,
        ws: Workspace,
        encoders: EncoderPool,
        run: Run | None = None,
        previous: RecommendationEngine | None = None,
        text_queries: bool = True,
    ) -> RecommendationEngine:
        """Load the served run (or ``run``); reuse unchanged parts of ``previous``.

        ``text_queries=False`` skips loading the text encoder at load (a batch job that
        never embeds a query: torch and the model cost seconds); a text query still loads it.

        Raises:
            IncompleteRunError: besides what loading raises, when the loaded run cannot
                answer a trial request (see ``_trial``).
        """
        engine = cls(load_snapshot(ws, run, previous.snap if previous else None), encoders)
        engine._trial(text_queries)
        return engine

    def _trial(self, text: bool = True) -> None:
        """Answer one cold and one warm request before this engine can be swapped in.

        Some damaged files load without error and fail only when ranked with (a
        ``titles.json`` of the wrong shape, a manifest whose ``run_id`` is not a string).
        Found here, they fail the load, so the previous engine keeps serving, instead of a
        200 from /admin/reload followed by a 500 on every request.
        """
        name = self.snap.run.name
        if not isinstance(self.model_version, str):
            raise IncompleteRunError(f"run {name} has a manifest whose run_id is not a string")
        ids = self.snap.items.vocab.ids
        try:
            self.recommend(k=1)  # cold: popularity and fresh sources, the cold ranker
            if len(ids):  # warm: every candidate source, the warm ranker, explanations
                self.recommend(history=[int(ids[0])], k=1)
            if text:
                self._trial_text()
        except Exception as exc:  # a trial request: whatever fails, this run must not serve
            log.error("run %s cannot answer a trial request", name, exc_info=True)
            raise IncompleteRunError(
                f"run {name} cannot answer a request (a damaged model file?)"
            ) from exc

    def _trial_text(self) -> None:
        """A text query: the query ranker, and the text encoder loaded before /ready.

        Loaded on the first query instead, that query took 7.5 s at 100k items (torch and the
        model read from disk) — with N workers, the first in each. A missing encoder only
        costs text queries (they answer its clear error), so it does not fail the load.
        """
        if "text" not in self.snap.modalities:
            return
        try:
            self.recommend(text="a trial query", k=1)
        except EncoderUnavailable as exc:
            log.warning("text queries will fail: %s", exc)

    @property
    def model_version(self) -> str:
        return self.snap.model_version

    @property
    def index_version(self) -> str:
        return self.snap.index_version

    # ----------------------------------------------------------------- lookups
    def item_index(self, item_id: int) -> int:
        idx = int(self.snap.items.vocab.index([item_id])[0])
        if idx < 0:
            raise UnknownItemError(f"item {item_id} is not in the catalog")
        return idx

    def known_user(self, user_id: int) -> bool:
        return user_id in self.snap.histories.seen

    def user_history(self, user_id: int) -> list[int]:
        """Liked item ids of a catalog user, oldest first."""
        idx = self.snap.histories.liked.get(user_id, np.zeros(0, np.int64))
        return self.snap.items.vocab.ids[idx].tolist()

    def user_seen(self, user_id: int) -> list[int]:
        """Every item id a catalog user interacted with (liked or not), oldest first."""
        idx = self.snap.histories.seen.get(user_id, np.zeros(0, np.int64))
        return self.snap.items.vocab.ids[idx].tolist()

    def demo_users(self, n: int) -> list[tuple[int, int]]:
        """(user_id, n_liked) of ``n`` users with mid-sized histories (readable on a page)."""
        if n not in self._demo_cache:
            liked = self.snap.histories.liked
            sizes = {u: len(v) for u, v in liked.items()}
            chosen = sorted((u for u, s in sizes.items() if 5 <= s <= 40), key=lambda u: -sizes[u])
            chosen = chosen[:n] or sorted(sizes, key=lambda u: -sizes[u])[:n]
            self._demo_cache[n] = [(u, sizes[u]) for u in chosen]
        return self._demo_cache[n]

    def title(self, idx: int) -> str:
        return self.snap.items.titles[idx]

    def poster_url(self, idx: int) -> str | None:
        if not self.snap.items.poster_paths[idx]:
            return None
        return f"/media/posters/{int(self.snap.items.vocab.ids[idx])}"

    def poster_file(self, item_id: int) -> Path | None:
        rel = self.snap.items.poster_paths[self.item_index(item_id)]
        return self.snap.catalog.resolve_media(rel) if rel else None

    def trailer_file(self, item_id: int) -> Path | None:
        rel = self.snap.items.trailer_paths[self.item_index(item_id)]
        return self.snap.catalog.resolve_media(rel) if rel else None

    def modality(self, name: str) -> ModalityVectors:
        space = self.snap.content_space
        if space is not None and space.name == name:
            return space  # the same rows, searched with the run's published index when it has one
        if name in self.snap.modalities:
            return self.snap.modalities[name]
        table = table_name("item", name) if name in ITEM_MODALITIES else name
        raise ModalityUnavailableError(
            f"modality {name!r} is not available: the feature store has no {table!r} table "
            f"(run `recsys embed --modalities {name}`)"
        )

    # ----------------------------------------------------------------- recommend
    def recommend(
        self,
        user_id: int | None = None,
        history: list[int] | None = None,
        seen: list[int] | None = None,
        text: str | None = None,
        k: int = 10,
        exclude_seen: bool = True,
        diversity: float = 0.0,
        genre: str | None = None,
        year_min: int | None = None,
        year_max: int | None = None,
    ) -> RecommendationList:
        """Top-``k`` for a catalog user and/or session ``history`` (item ids) and/or ``text``.

        Everything is ranked by the run's pipeline — the object `recsys evaluate` scores.
        The engine only adds what the run cannot know: likes/views logged since it was
        trained (``history``/``seen``) and the text query's embedding. Unknown ids in
        ``history``/``seen`` are ignored (they may come from a newer catalog).
        """
        snap = self.snap
        models = snap.models
        ids = snap.items.vocab.ids
        uid = -1 if user_id is None else user_id  # -1: no catalog user
        # the catalog's history of the user (newer than the run when events were merged)
        catalog_liked = ids[snap.histories.liked.get(uid, np.zeros(0, np.int64))].tolist()
        catalog_seen = ids[snap.histories.seen.get(uid, np.zeros(0, np.int64))].tolist()
        query = self._embed_query(text) if text and text.strip() else None
        mask = snap.items.filter_mask(genre, year_min, year_max)
        allowed = None
        if mask is not None:
            pos = models.catalog_index
            allowed = np.where(pos >= 0, mask[np.maximum(pos, 0)], False)
        result = models.pipeline.recommend(
            RankRequest(
                user_id=user_id,
                history=tuple(catalog_liked + list(history or [])),
                seen=tuple(catalog_seen + list(seen or [])),
                query=query,
                query_text=text,
                k=k,
                exclude_seen=exclude_seen,
                diversity=diversity,
                allowed=allowed,
            )
        )
        return RecommendationList(
            self._ranked_rows(result),
            result.cold_start,
            self.model_version,
            self.index_version,
        )

    def _ranked_rows(self, result: RankedList) -> list[Recommendation]:
        idx = self.snap.items.vocab.index(result.item_ids)
        rows: list[Recommendation] = []
        for r, (i, s) in enumerate(zip(idx, result.scores, strict=True)):
            if i < 0:  # trained on an item the catalog has since dropped
                continue
            exp = result.explanations[r] if result.explanations else None
            rows.append(
                Recommendation(
                    int(self.snap.items.vocab.ids[i]),
                    self.title(i),
                    round(float(s), 5),
                    len(rows) + 1,
                    exp.reason if exp else "",
                    self.poster_url(i),
                    exp.group if exp else None,
                    exp.contributions if exp else None,
                )
            )
        return rows

    def _embed_query(self, text: str) -> np.ndarray:
        self.modality("text")  # raise the clear error before loading a model for nothing
        return np.asarray(self.encoders.embed_text([text]), np.float32)[0]

    def _rows(self, picked, scores, reasons) -> list[Recommendation]:
        ids = self.snap.items.vocab.ids
        return [
            Recommendation(
                int(ids[i]), self.title(i), round(float(s), 5), r + 1, reason, self.poster_url(i)
            )
            for r, (i, s, reason) in enumerate(zip(picked, scores, reasons, strict=True))
        ]

    # ----------------------------------------------------------------- similar / search
    def similar(self, item_id: int, k: int = 10, modality: str | None = None):
        """Nearest items to ``item_id`` in one modality (default: fused, else text)."""
        idx = self.item_index(item_id)
        if modality is None:
            modality = "fused" if "fused" in self.snap.modalities else "text"
        space = self.modality(modality)
        if not space.present[idx]:
            raise ModalityUnavailableError(f"item {item_id} has no {modality} vector")
        found, sims = space.ann.search(space.matrix[idx], k + 1)
        keep = found != idx
        found, sims = found[keep][:k], sims[keep][:k]
        reasons = explain_similar(found, idx, self.snap.modalities, self.title(idx), modality)
        return self._rows(found, sims, reasons)

    def search_text(self, query: str, k: int = 10) -> list[Recommendation]:
        """Items whose text embedding is closest to ``query`` (and posters, with CLIP)."""
        vec = self._embed_query(query)
        found, sims = self.modality("text").ann.search(vec, k)
        return self._rows(found, sims, [f"matches “{query.strip()[:60]}”"] * len(found))

    def search_image(self, image, k: int = 10) -> list[Recommendation]:
        """Items whose poster is closest to an uploaded PIL image (needs CLIP + item_image)."""
        encoder = self.encoders.clip_image()
        space = self.modality("image")
        vec = np.asarray(encoder.encode([image]), np.float32)[0]
        if vec.shape[0] != space.matrix.shape[1]:
            raise EncoderUnavailable(
                f"item_image vectors are {space.matrix.shape[1]}-d but the CLIP image encoder "
                f"gives {vec.shape[0]}-d: re-run `recsys embed --modalities image` with CLIP"
            )
        found, sims = space.ann.search(vec, k)
        return self._rows(found, sims, ["poster looks like your picture"] * len(found))
