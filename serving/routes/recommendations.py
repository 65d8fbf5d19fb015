"""Personal recommendations: catalog users (plus their live session) and anonymous visitors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from serving.deps import EngineDep, StateDep
from serving.engine import RecommendationList
from serving.schemas import AnonymousRequest, RecommendationsResponse, RecommendedItem

router = APIRouter(tags=["recommendations"])


def _response(user_id: int | None, result: RecommendationList) -> RecommendationsResponse:
    return RecommendationsResponse(
        user_id=user_id,
        items=[RecommendedItem(**vars(r)) for r in result.items],
        cold_start=result.cold_start,
        model_version=result.model_version,
        index_version=result.index_version,
    )


@router.get("/users/{user_id}/recommendations", response_model=RecommendationsResponse)
def user_recommendations(
    user_id: int,
    engine: EngineDep,
    state: StateDep,
    k: Annotated[int, Query(ge=1, le=1000)] = 10,
    exclude_seen: bool = True,
    diversity: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
    genre: Annotated[str | None, Query(max_length=100)] = None,
    year_min: int | None = None,
    year_max: int | None = None,
) -> RecommendationsResponse:
    """Top-k for a user; unknown users (no history, no events) get popular items."""
    result = engine.recommend(
        user_id=user_id,
        history=state.sessions.liked(user_id),
        seen=state.sessions.seen(user_id),
        k=k,
        exclude_seen=exclude_seen,
        diversity=diversity,
        genre=genre or None,
        year_min=year_min,
        year_max=year_max,
    )
    return _response(user_id, result)


@router.post("/recommendations", response_model=RecommendationsResponse)
def anonymous_recommendations(body: AnonymousRequest, engine: EngineDep):
    """For visitors without an account: liked item ids and/or free text ("space adventure")."""
    result = engine.recommend(
        history=body.history,
        text=body.text,
        k=body.k,
        exclude_seen=body.exclude_seen,
        diversity=body.diversity,
        genre=body.genre or None,
        year_min=body.year_min,
        year_max=body.year_max,
    )
    return _response(None, result)
