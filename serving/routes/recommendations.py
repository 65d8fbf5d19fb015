"""Personal recommendations: catalog users (plus their live session) and anonymous visitors."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query

from serving.deps import EngineDep, QueryFiltersDep, StateDep, check_genre
from serving.engine import RecommendationList
from serving.heavy import HeavyDep, PoolSaturated, overloaded
from serving.lanes import RankingLaneDep
from serving.schemas import (
    AnonymousRequest,
    RecommendationsResponse,
    RecommendedItem,
    UserId,
    errors,
)

router = APIRouter(tags=["recommendations"])


def _response(user_id: int | None, result: RecommendationList) -> RecommendationsResponse:
    return RecommendationsResponse(
        user_id=user_id,
        items=[RecommendedItem(**vars(r)) for r in result.items],
        cold_start=result.cold_start,
        model_version=result.model_version,
        index_version=result.index_version,
    )


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
) -> RecommendationsResponse:
    """Top-k for a user; unknown users (no history, no events) get popular items.

    An unknown ``genre`` or ``year_min`` > ``year_max`` is a 422 (it could only match nothing).
    """
    ask = partial(
        engine.recommend,
        user_id=user_id,
        history=state.sessions.liked(user_id),
        seen=state.sessions.seen(user_id),
        k=k,
        exclude_seen=exclude_seen,
        diversity=diversity,
        genre=filters.genre,
        year_min=filters.year_min,
        year_max=filters.year_max,
    )
    return _response(user_id, await lane.run(ask))


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
    body: AnonymousRequest, engine: EngineDep, heavy: HeavyDep, lane: RankingLaneDep
):
    """For visitors without an account: liked item ids and/or free text ("space adventure"),
    plus items they saw or turned down (``seen``), which are left out."""
    ask = partial(
        engine.recommend,
        history=body.history,
        seen=body.seen,
        text=body.text,
        k=body.k,
        exclude_seen=body.exclude_seen,
        diversity=body.diversity,
        genre=check_genre(engine, body.genre, "body"),
        year_min=body.year_min,
        year_max=body.year_max,
    )
    if not body.text:
        return _response(None, await lane.run(ask))
    try:  # a text query runs the text encoder: bounded like /search and /v1/embeddings
        return _response(None, await heavy.run(ask))
    except PoolSaturated as exc:
        raise overloaded(exc) from None
