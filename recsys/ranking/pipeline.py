"""RankingPipeline: retrieval sources → features → learned ranker → business rules → reasons.

THE scoring path: `recsys train` builds it, the run keeps it (``<run>/models/pipeline``),
serving loads it with ``load_pipeline`` and calls ``recommend`` per request, and evaluation
loads the same directory the same way and calls the same ``recommend`` for every test user.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.candidates import (
    CandidateConfig,
    CandidateGenerator,
    SourceResult,
    block,
    merge_order,
    provenance,
)
from recsys.core.runs import Run
from recsys.ranking.config import PipelineConfig
from recsys.ranking.explain import Explanation, explain
from recsys.ranking.features import assemble, feature_names
from recsys.ranking.profile import Profile, build_profile
from recsys.ranking.ranker import Ranker
from recsys.ranking.retrieval import Retrieval
from recsys.ranking.rules import mmr
from recsys.ranking.stage1 import Stage1

PIPELINE = "pipeline"  # the model directory name inside a run
INDEXES = "indexes"  # inside it: the retrieval indexes worth saving (approximate kinds)
# The rankers, by what a request brings: a history ("warm"); a few picks or none ("cold"); a
# text query with a few picks or none ("query").
WARM, COLD, QUERY = "warm", "cold", "query"


@dataclass(frozen=True)
class RankRequest:
    """One ask: a known user and/or session likes, optional text query and business rules.

    ``history``/``seen`` are item ids (unknown ids ignored); ``query`` is a text-space vector
    (the caller embeds the text with the shared encoder), ``query_text`` the words shown in
    reasons. ``allowed`` (n,) bool over the pipeline's items applies filters (genre, year);
    None (no filter) costs nothing per item.
    """

    user_id: int | None = None
    history: tuple[int, ...] = ()
    seen: tuple[int, ...] = ()
    query: np.ndarray | None = None
    query_text: str | None = None
    k: int = 10
    exclude_seen: bool = True
    diversity: float = 0.0
    allowed: np.ndarray | None = None
    explain: bool = True


@dataclass
class RankedList:
    """The answer: item ids best first, ranker scores, explanations, and where they came from."""

    item_ids: np.ndarray
    scores: np.ndarray
    explanations: list[Explanation]
    cold_start: bool
    sources: list[list[str]]
    proposals: dict[str, np.ndarray] = field(default_factory=dict)  # source -> ids, best first
    candidates: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass
class Candidates:
    """One request's candidate stage: ``items`` (C,) item indices and ``features`` (C, F)."""

    profile: Profile
    results: list[SourceResult]
    items: np.ndarray
    features: np.ndarray
    nearest: dict[str, np.ndarray]  # modality -> (C,) position in profile.recent, -1 none
    added_by: np.ndarray  # (C,) index into ``results`` of the source that added each


class RankingPipeline:
    """Stage-1 models and content over one frame, plus a ranker trained on a later chunk.

    A request costs what its candidate budget (the quotas) and its history cost, not the
    catalog: sources search indexes built here once (``Retrieval``), features read the
    candidates' rows only. ``stage1`` and ``cfg.fresh_max_count`` are fixed for the
    pipeline's life (the indexes are built from them).
    """

    def __init__(
        self,
        stage1: Stage1,
        rankers: dict[str, Ranker] | None,
        cfg: PipelineConfig,
        titles: list[str],
        info: dict | None = None,
        indexes: Path | None = None,
    ):
        """``indexes``: where a saved pipeline's approximate indexes are (``save`` writes
        them; missing ones are built)."""
        self.stage1 = stage1
        # keyed WARM / COLD / QUERY (see ``ranker_for``)
        self.rankers = dict(rankers or {})
        self.cfg = cfg
        self.titles = titles  # (n,) in the pipeline's item order, for reasons
        self.info = dict(info or {})
        self.modalities = sorted(stage1.content)
        self.names = feature_names(self.modalities)
        self.vocab = stage1.vocab
        self.retrieval = Retrieval(stage1, cfg.fresh_max_count, cfg.index, indexes)

    @property
    def ranker(self) -> Ranker | None:
        """The ranker of requests with a history (the one the report describes)."""
        return self.rankers.get(WARM)

    def ranker_kind(self, profile: Profile) -> str:
        """Which ranker a request belongs to (training sorts its requests the same way):
        at most ``onboarding_picks`` likes → QUERY with a text query, else COLD; more → WARM.
        """
        if len(profile.history) > self.cfg.onboarding_picks:
            return WARM
        return QUERY if profile.query is not None else COLD

    def ranker_for(self, profile: Profile) -> Ranker:
        """The ranker of ``ranker_kind``; runs trained before the query ranker existed rank
        query requests with the cold one (which then was trained on them)."""
        for kind in (self.ranker_kind(profile), COLD, WARM):
            if kind in self.rankers:
                return self.rankers[kind]
        raise ValueError("this pipeline has no ranker yet (it is being trained)")

    # ------------------------------------------------------------------ candidate stage
    def source_order(self) -> list[str]:
        content = [f"content:{m}" for m in self.modalities]
        order = ["query", "ease", "itemknn", "als", "tower", *content, "fresh"]
        return [*order, "recent_popularity", "popularity"]

    def profile(self, req: RankRequest) -> Profile:
        return build_profile(
            self.stage1,
            req.user_id,
            self._indices(req.history),
            self._indices(req.seen),
            req.query,
            self.cfg.recent_likes,
        )

    def propose(self, profile: Profile, req: RankRequest) -> list[SourceResult]:
        """Each source's proposals (item ids, best first), excluded items never among them."""
        sources = self.retrieval.sources(profile, self.source_order())
        quotas = {s.name: self.cfg.quota(s.name) for s in sources}
        generator = CandidateGenerator(sources, CandidateConfig(quotas=quotas))
        exclude = profile.seen if req.exclude_seen else np.zeros(0, np.int64)
        allowed = np.asarray(req.allowed, bool) if req.allowed is not None else None
        return generator.propose(self.retrieval.request(profile, exclude, allowed))

    # ------------------------------------------------------------------ ranking
    def candidates(self, req: RankRequest) -> Candidates:
        """Profile, candidates and their feature rows: the part ranker training shares."""
        profile = self.profile(req)
        results = self.propose(profile, req)
        quotas = {r.source: self.cfg.quota(r.source) for r in results}
        merged, added_by = merge_order(results, quotas)
        cands = self.vocab.index(merged)
        ranks = {r.source: self.vocab.index(r.ids) for r in results}
        feats, nearest = assemble(
            self.stage1, profile, cands, ranks, self.names, self.cfg.fresh_max_count
        )
        return Candidates(profile, results, cands, feats, nearest, added_by)

    def recommend(self, req: RankRequest) -> RankedList:
        """Top-``req.k`` for one request (the only way anything is ranked, online or offline)."""
        c = self.candidates(req)
        if not self.rankers:
            raise ValueError("this pipeline has no ranker yet (it is being trained)")
        ranker = self.ranker_for(c.profile)
        scores = ranker.predict(c.features)
        picked = self._pick(c, scores, req, warm=ranker is self.rankers.get(WARM))
        exps: list[Explanation] = []
        if req.explain and len(picked):
            exps = self._explain(c, picked, req, ranker)
        out_ids = self.vocab.ids[c.items[picked]]
        return RankedList(
            item_ids=out_ids,
            scores=scores[picked],
            explanations=exps,
            cold_start=not len(c.profile.history) and req.query is None,
            sources=provenance(c.results, out_ids, c.added_by[picked]),
            proposals={r.source: r.ids for r in c.results},
            candidates=self.vocab.ids[c.items],
        )

    def _pick(self, c: Candidates, scores: np.ndarray, req: RankRequest, warm: bool) -> np.ndarray:
        """Positions in ``c.items`` of the final list: best first, MMR when diversity is asked,
        then, for warm requests (what ``fresh_slots`` was chosen on), ``cfg.fresh_slots`` of
        the last places for the best fresh candidates — best by the ranker's score or by the
        fresh source's content similarity (``cfg.fresh_order``, also chosen on validation)."""
        picked = self._ranked(c.items, scores, req)
        slots = min(self.cfg.fresh_slots or 0, req.k) if warm else 0
        if slots <= 0:
            return picked
        best_fresh = self._best_fresh(c, scores)[:slots]
        keep = picked[~np.isin(picked, best_fresh)][: req.k - len(best_fresh)]
        return np.concatenate([keep, best_fresh]).astype(np.int64)

    def _best_fresh(self, c: Candidates, scores: np.ndarray) -> np.ndarray:
        """Positions of the fresh candidates, best first (see ``_pick``)."""
        if self.cfg.fresh_order == "content":
            proposed = next((r.ids for r in c.results if r.source == "fresh"), None)
            if proposed is None:
                return np.zeros(0, np.int64)
            at = {int(i): p for p, i in enumerate(self.vocab.ids[c.items])}
            return np.asarray([at[int(i)] for i in proposed if int(i) in at], np.int64)
        fresh = self.stage1.facts.likes[c.items] <= self.cfg.fresh_max_count
        order = np.argsort(-scores, kind="stable")
        return order[fresh[order]]

    def _ranked(self, cands: np.ndarray, scores: np.ndarray, req: RankRequest) -> np.ndarray:
        order = np.argsort(-scores, kind="stable")
        space = self.stage1.content.get("text") or next(iter(self.stage1.content.values()), None)
        if req.diversity > 0 and space is not None and len(order) > 1:
            pool = order[: max(3 * req.k, 50)]
            chosen = mmr(pool, scores[pool], space.matrix[cands[pool]], req.k, req.diversity)
            return np.asarray(chosen, np.int64)
        return order[: req.k]

    def _explain(
        self, c: Candidates, picked: np.ndarray, req: RankRequest, ranker: Ranker
    ) -> list[Explanation]:
        recent, items = c.profile.recent, c.items[picked]
        near = {
            m: np.where(v[picked] >= 0, recent[np.maximum(v[picked], 0)], -1)
            for m, v in c.nearest.items()
        }
        collab = np.full(len(items), -1, np.int64)
        if len(recent):
            co = block(self.stage1.itemknn.similarity, recent, items)  # (h, K)
            collab = np.where(co.max(axis=0) > 0, recent[co.argmax(axis=0)], -1)
        contribs = ranker.contributions(c.features[picked])
        closest = next((r.ids[: 2 * req.k] for r in c.results if r.source == "query"), None)
        hits = np.isin(self.vocab.ids[items], closest) if closest is not None else None
        return explain(
            contribs,
            self.names,
            near,
            collab,
            self.titles,
            req.query_text,
            has_history=bool(len(c.profile.history)),
            query_hits=hits,
        )

    def _indices(self, ids) -> np.ndarray:
        idx = self.vocab.index(np.asarray(ids, np.int64).ravel())
        return idx[idx >= 0]

    # ------------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.stage1.save(directory / "stage1")
        if WARM not in self.rankers:
            raise ValueError("an untrained pipeline (no ranker) is never saved")
        self.retrieval.save(directory / INDEXES)
        for kind, ranker in self.rankers.items():
            ranker.save(directory / f"ranker_{kind}")
        manifest = {
            "name": PIPELINE,
            "config": self.cfg.to_dict(),
            "modalities": self.modalities,
            "rankers": sorted(self.rankers),
            "features": self.names,
            "info": self.info,
        }
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        (directory / "titles.json").write_text(json.dumps(self.titles))

    @classmethod
    def load(cls, directory: Path) -> RankingPipeline:
        manifest = json.loads((directory / "manifest.json").read_text())
        titles = json.loads((directory / "titles.json").read_text())
        pipeline = cls(
            Stage1.load(directory / "stage1"),
            {k: Ranker.load(directory / f"ranker_{k}") for k in manifest["rankers"]},
            PipelineConfig.from_dict(manifest["config"]),
            titles,
            manifest.get("info"),
            directory / INDEXES,
        )
        if pipeline.names != manifest["features"]:
            raise ValueError(f"{directory}: feature columns differ from the saved ranker's")
        return pipeline


def load_pipeline(run: Run) -> RankingPipeline:
    """The run's pipeline, loaded the one way serving and evaluation both use.

    Raises:
        FileNotFoundError: the run has no pipeline (trained before it existed): retrain.
    """
    directory = run.model_dir(PIPELINE)
    if not (directory / "manifest.json").exists():
        raise FileNotFoundError(
            f"run {run.name} has no ranking pipeline: run `recsys train` (then `recsys index`)"
        )
    return RankingPipeline.load(directory)
