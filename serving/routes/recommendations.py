"""Personal recommendations: catalog users (plus their live session) and anonymous visitors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from serving.answers import answer_body, request_key, user_request
from serving.deps import EngineDep, QueryFiltersDep, StateDep, check_genre
from serving.engine import RecommendationEngine, RecommendationList
from serving.heavy import HeavyDep, PoolSaturated, overloaded
from serving.lanes import RankingLaneDep
from serving.schemas import AnonymousRequest, RecommendationsResponse, UserId, errors
from serving.state import ServiceState

router = APIRouter(tags=["recommendations"])

CacheControl = Annotated[
    str | None,
    Header(
        description="`no-cache`: rank afresh instead of answering with the kept answer of the "
        "same request; `no-store`: and do not keep this one (answers are kept per worker until "
        "the user's events or the served run change; known users' default requests are also "
        "ranked with the run before it is published)."
    ),
]


def _kept(
    state: ServiceState, engine: RecommendationEngine, key: Hashable
) -> tuple[bytes | None, str]:
    """This worker's kept answer (``hit``), else the run's precomputed one, else none."""
    body, outcome = state.responses.get(engine, key), "hit"
    if body is None and engine.answers is not None:
        body, outcome = engine.answers.get(key), "precomputed"
    outcome = outcome if body is not None else "miss"
    state.metrics.response_cache.labels(outcome).inc()
    return body, outcome


async def _answer(
    state: ServiceState,
    engine: RecommendationEngine,
    ask: partial,
    cache_control: str | None,
    user_id: int | None,
    rank: Callable[[], Awaitable[RecommendationList]],
) -> Response:
    """The kept answer of ``ask`` when there is one, else ``rank()``'s, kept for next time.

    Kept by this worker (``X-Cache: hit``) or ranked with the run before it was published
    (``precomputed``), else ranked now (``miss``); the same bytes in every case.
    """
    key = request_key(ask)
    directives = {d.strip().lower() for d in (cache_control or "").split(",")}
    store = "no-store" not in directives
    fresh = "no-cache" in directives or not store
    body, outcome = (None, "miss") if fresh else _kept(state, engine, key)
    if body is None:
        body = answer_body(user_id, await rank())
        if store:
            state.responses.put(engine, key, body)
    return Response(body, media_type="application/json", headers={"X-Cache": outcome})


@router.get(
    "/users/{user_id}/recommendations",
    response_model=RecommendationsResponse,
    responses=errors(503),
)
async def user_recommendations(
    user_id: Annotated[UserId, Path()],
    engine: EngineDep,
    state: StateDep,
    lane: RankingLaneDep,
    filters: QueryFiltersDep,
    k: Annotated[int, Query(ge=1, le=1000)] = 10,
    exclude_seen: bool = True,
    diversity: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
    cache_control: CacheControl = None,
) -> Response:
    """Top-k for a user; unknown users (no history, no events) get popular items.

    An unknown ``genre`` or ``year_min`` > ``year_max`` is a 422 (it could only match nothing).
    """
    ask = user_request(
        engine,
        user_id,
        state.sessions.liked(user_id),
        state.sessions.seen(user_id),
        k=k,
        exclude_seen=exclude_seen,
        diversity=diversity,
        genre=filters.genre,
        year_min=filters.year_min,
        year_max=filters.year_max,
    )
    return await _answer(state, engine, ask, cache_control, user_id, partial(lane.run, ask))


@router.post(
    "/recommendations",
    response_model=RecommendationsResponse,
    responses=errors(
        400,
        (409, "A text query, but the feature store has no item_text vectors."),
        413,
        (501, "A text query, but the text encoder cannot be loaded on this server."),
        503,
    ),
)
async def anonymous_recommendations(
    body: AnonymousRequest,
    engine: EngineDep,
    state: StateDep,
    heavy: HeavyDep,
    lane: RankingLaneDep,
    cache_control: CacheControl = None,
) -> Response:
    """For visitors without an account: liked item ids and/or free text ("space adventure"),
    plus items they saw or turned down (``seen``), which are left out."""
    genre = check_genre(engine, body.genre, "body")
    ask = partial(
        engine.recommend,
        history=body.history,
        seen=body.seen,
        text=body.text,
        k=body.k,
        exclude_seen=body.exclude_seen,
        diversity=body.diversity,
        genre=genre,
        year_min=body.year_min,
        year_max=body.year_max,
    )

    async def rank() -> RecommendationList:
        if not body.text:
            return await lane.run(ask)
        try:  # a text query runs the text encoder: bounded like /search and /v1/embeddings
            return await heavy.run(ask)
        except PoolSaturated as exc:
            raise overloaded(exc) from None

    return await _answer(state, engine, ask, cache_control, None, rank)
