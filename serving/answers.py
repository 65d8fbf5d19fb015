"""A recommendation request's identity and its answer's bytes — one definition for the routes,
the answers each worker keeps (``response_cache``) and those ranked with the run before it was
published (``engine.answer_store``), so all three are the same answer to the same request."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator, Sequence
from functools import partial

from serving.engine import RecommendationEngine, RecommendationList
from serving.engine.answer_store import AnswerStore, write_answer_store
from serving.schemas import RecommendationsResponse, RecommendedItem

log = logging.getLogger(__name__)

# The requests ranked for every known user before a run is published: the API's default k
# and a home row of 20. Not a tuned value: the shapes product pages ask for.
DEFAULT_KS = (10, 20)
CHECKED_USERS = 3  # stored answers re-ranked at load, compared byte for byte


def user_request(
    engine: RecommendationEngine,
    user_id: int,
    history: list[int],
    seen: list[int],
    k: int = 10,
    exclude_seen: bool = True,
    diversity: float = 0.0,
    genre: str | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
) -> partial:
    """The engine call that answers ``GET /users/{user_id}/recommendations``; ``history`` and
    ``seen`` are the user's live likes and views since the run."""
    return partial(
        engine.recommend,
        user_id=user_id,
        history=history,
        seen=seen,
        k=k,
        exclude_seen=exclude_seen,
        diversity=diversity,
        genre=genre,
        year_min=year_min,
        year_max=year_max,
    )


def request_key(ask: partial) -> Hashable:
    """Every argument the engine ranks with (lists as tuples): the request's identity, besides
    the engine itself. Derived from the call, so an argument added to it is keyed too."""
    return tuple(
        (name, tuple(value) if isinstance(value, list) else value)
        for name, value in sorted(ask.keywords.items())
    )


def answer_body(user_id: int | None, result: RecommendationList) -> bytes:
    """The JSON body of a recommendations answer."""
    return (
        RecommendationsResponse(
            user_id=user_id,
            items=[RecommendedItem(**vars(r)) for r in result.items],
            cold_start=result.cold_start,
            model_version=result.model_version,
            index_version=result.index_version,
        )
        .model_dump_json()
        .encode()
    )


def ranked_from(engine: RecommendationEngine) -> dict:
    """What precomputed answers must have been ranked from to be served by ``engine``."""
    snap = engine.snap
    return {
        "run": snap.run.name,
        "model_version": engine.model_version,
        "index_version": engine.index_version,
        "catalog": snap.catalog_fingerprint,
    }


def known_users(engine: RecommendationEngine) -> list[int]:
    return sorted(engine.snap.histories.seen)


def _as_of_run(engine: RecommendationEngine, user: int, k: int) -> partial:
    """A known user's request with no live events since the run: what is precomputed."""
    return user_request(engine, user, [], [], k=k)


def precompute(
    engine: RecommendationEngine, ks: Sequence[int] = DEFAULT_KS
) -> Iterator[tuple[Hashable, bytes]]:
    """(key, body) of every known user's request at each ``k`` with no live events."""
    for user in known_users(engine):
        for k in ks:
            ask = _as_of_run(engine, user, k)
            yield request_key(ask), answer_body(user, ask())


def write_answers(engine: RecommendationEngine, ks: Sequence[int] = DEFAULT_KS) -> int:
    """Rank ``precompute(engine, ks)`` into the answers folder of the engine's run (not yet
    published: a served run is never written); returns how many were written."""
    facts = ranked_from(engine)
    if not ks:
        return 0
    if facts["catalog"] is None:
        raise RuntimeError("the catalog was replaced while the run loaded: run this again")
    folder = engine.snap.run.answers_dir
    return write_answer_store(folder, precompute(engine, ks), {**facts, "ks": list(ks)})


def attach_answers(engine: RecommendationEngine) -> int:
    """Serve the run's precomputed answers from ``engine`` when they were ranked from what it
    loaded and a few of them re-rank to the same bytes (a code change that alters answers is
    caught here); returns how many are served (0: every request is ranked)."""
    facts = ranked_from(engine)
    if facts["catalog"] is None:
        return 0  # the catalog changed while loading: nothing to compare answers with
    store = AnswerStore.open(engine.snap.run.answers_dir, facts)
    if store is None:
        return 0
    users, k = known_users(engine), int(store.facts["ks"][0])
    for user in users[:: max(1, len(users) // CHECKED_USERS)][:CHECKED_USERS]:
        ask = _as_of_run(engine, user, k)
        if store.get(request_key(ask)) != answer_body(user, ask()):
            log.warning("answers precomputed for %s differ from ranking: unused", facts["run"])
            return 0
    engine.answers = store
    return len(store)
