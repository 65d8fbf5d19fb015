"""RecommendationEngine: candidates → score → re-rank → explain, over one immutable snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from features.store import ITEM_MODALITIES, table_name
from recsys.core.runs import Run
from recsys.core.workspace import Workspace
from serving.engine.encoders import EncoderPool, EncoderUnavailable
from serving.engine.explain import explain_batch, explain_similar
from serving.engine.rerank import mmr
from serving.engine.snapshot import Snapshot, load_snapshot
from serving.engine.vectors import ModalityVectors

HISTORY_WINDOW = 50  # most recent likes that shape the taste vector (bounded cost per request)
MIN_BUDGET = 200  # each candidate source's quota is max(MIN_BUDGET, 5 k)
# Blend weights of the candidate scores; each term is on a 0..1-ish scale.
W_COLLAB, W_CONTENT, W_QUERY, W_POP = 1.0, 0.6, 1.0, 0.1


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
        self._demo_cache: dict[int, list[tuple[int, int]]] = {}

    @classmethod
    def load(
        cls,
        ws: Workspace,
        encoders: EncoderPool,
        run: Run | None = None,
        previous: RecommendationEngine | None = None,
    ) -> RecommendationEngine:
        """Load the served run (or ``run``); reuse unchanged parts of ``previous``."""
        return cls(load_snapshot(ws, run, previous.snap if previous else None), encoders)

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

    def modality(self, name: str) -> ModalityVectors:
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

        Unknown ids in ``history``/``seen`` are ignored (they may come from a newer catalog).
        """
        snap = self.snap
        uid = -1 if user_id is None else user_id  # -1: no catalog user
        liked = self._merge(snap.histories.liked.get(uid), history)
        seen_idx = self._merge(snap.histories.seen.get(uid), (history or []) + (seen or []))
        recent = liked[-HISTORY_WINDOW:]
        query = self._embed_query(text) if text and text.strip() else None
        cold = not len(recent) and query is None
        space = snap.user_space
        taste = self._taste_vector(user_id, recent)
        mask = snap.items.filter_mask(genre, year_min, year_max)
        cands = self._candidates(recent, seen_idx if exclude_seen else None, taste, query, k, mask)
        collab = None  # item-kNN scores of every item, for the heuristic blend
        if len(recent) and snap.models.similarity is not None:
            collab = np.asarray(snap.models.similarity[recent].sum(axis=0)).ravel()  # (n,)
        rescored = None
        if taste is not None and space is not None and space.name == "hybrid":
            rescored = self._hybrid_rescored(taste, recent, cands)
        if rescored is not None:  # the fitted blend already weighs popularity and collab scores
            score = rescored
        else:
            score = self._heuristic_score(cands, collab, taste, space)
        if query is not None:
            score += W_QUERY * (self.modality("text").matrix[cands] @ query)
        picked, picked_scores = self._rerank(cands, score, k, diversity)
        reasons = explain_batch(
            picked,
            recent,
            snap.items.titles,
            snap.modalities,
            snap.models.similarity,
            query=text,
            cold=cold,
        )
        return RecommendationList(
            self._rows(picked, picked_scores, reasons),
            cold,
            self.model_version,
            self.index_version,
        )

    def _candidates(
        self,
        recent: np.ndarray,
        seen: np.ndarray | None,
        taste: np.ndarray | None,
        query: np.ndarray | None,
        k: int,
        mask: np.ndarray | None,
    ) -> np.ndarray:
        """Dense indices (C,) of the candidates: the sources' merge, filtered, topped up.

        ``seen`` (dense indices, None to keep them) never comes back; ``mask`` (n,) bool
        keeps only the items passing the genre/year filters.
        """
        snap = self.snap
        budget = max(MIN_BUDGET, 5 * k)
        ids = snap.items.vocab.ids
        exclude = ids[seen] if seen is not None else ids[:0]
        found = snap.candidates.generate(ids[recent], exclude, taste, query, budget)
        cands = snap.candidates.indices(found)
        allowed = np.ones(len(snap.items), bool)
        if seen is not None:
            allowed[seen] = False  # the sources skipped them; the top-up below must too
        if mask is not None:
            allowed &= mask
        cands = cands[allowed[cands]]
        if len(cands) < k:  # filters removed too much: top up from the popularity order
            extra = snap.models.pop_order[allowed[snap.models.pop_order]]
            cands = np.unique(np.concatenate([cands, extra[: k + budget]]))
        return cands

    def _heuristic_score(self, cands, collab, taste, space) -> np.ndarray:
        """Fixed-weight blend used when no validation-fitted re-scorer is available."""
        pop = self.snap.models.popularity
        score = W_POP * pop[cands] / max(pop.max(), 1e-6)
        if collab is not None and collab.max() > 0:
            score += W_COLLAB * collab[cands] / collab.max()
        if taste is not None and space is not None:
            affinity = space.matrix[cands] @ taste  # (C,)
            if space.name == "hybrid":  # logits, not cosines: bring to a 0..1 scale
                affinity = affinity / max(float(np.abs(affinity).max()), 1e-6)
            score += W_CONTENT * affinity
        return score

    def _hybrid_rescored(self, taste, recent, cands) -> np.ndarray | None:
        """The hybrid's re-scorer (tower, EASE, content, popularity, cold flag), scaled 0..1.

        It standardises features over the whole catalog, so it scores every item and the
        candidates are read out of that; at catalog sizes served here this is one mat-vec.
        """
        hybrid = self.snap.models.hybrid
        if hybrid is None or hybrid.rescorer is None:
            return None
        ids = self.snap.items.vocab.ids
        seq = hybrid.item_vocab.index(ids[recent])
        dot = (hybrid.item_vectors() @ taste)[None]  # (1, N)
        blended = hybrid.rescore(dot, [seq[seq >= 0]])[0]
        pos = hybrid.item_vocab.index(ids[cands])
        out = np.where(pos >= 0, blended[np.maximum(pos, 0)], blended.min())
        lo, hi = float(out.min()), float(out.max())
        return ((out - lo) / max(hi - lo, 1e-6)).astype(np.float32)

    def _merge(self, base: np.ndarray | None, ids: list[int] | None) -> np.ndarray:
        base = np.zeros(0, np.int64) if base is None else base
        if not ids:
            return base
        idx = self.snap.items.vocab.index(ids)
        extra = idx[idx >= 0]
        merged = np.concatenate([base[~np.isin(base, extra)], extra])
        _, first = np.unique(merged[::-1], return_index=True)  # keep the latest occurrence
        return merged[::-1][np.sort(first)][::-1]

    def _taste_vector(self, user_id: int | None, recent: np.ndarray) -> np.ndarray | None:
        space = self.snap.user_space
        if space is None or not len(recent):
            return None
        if space.name == "hybrid":
            vec = self._hybrid_user(user_id, recent)
            if vec is not None:
                return vec
        rows = recent[space.present[recent]]
        if not len(rows):
            return None
        vec = space.matrix[rows].mean(axis=0)  # (d,)
        return vec / max(float(np.linalg.norm(vec)), 1e-12)

    def _hybrid_user(self, user_id, recent) -> np.ndarray | None:
        hybrid = self.snap.models.hybrid
        if hybrid is None:
            return None
        uidx = hybrid.user_vocab.index([user_id if user_id is not None else -1])
        seq = hybrid.item_vocab.index(self.snap.items.vocab.ids[recent])
        known = seq[seq >= 0].tolist()  # items the model was trained on
        return np.asarray(hybrid.encode_users(uidx, [known]), np.float32)[0]

    def _embed_query(self, text: str) -> np.ndarray:
        self.modality("text")  # raise the clear error before loading a model for nothing
        return np.asarray(self.encoders.embed_text([text]), np.float32)[0]

    def _rerank(self, cands, score, k, diversity):
        order = np.argsort(-score, kind="stable")
        space = self.snap.content_space
        if diversity > 0 and space is not None:
            pool = order[: max(3 * k, 50)]
            picked = mmr(cands[pool], score[pool], space.matrix[cands[pool]], k, diversity)
            lookup = dict(zip(cands.tolist(), score.tolist(), strict=True))
            return picked, np.asarray([lookup[int(i)] for i in picked], np.float32)
        top = order[:k]
        return cands[top], score[top]

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
