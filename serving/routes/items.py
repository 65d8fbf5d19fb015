"""Item pages: "more like this" in one modality, and the rows that need no user."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from serving.deps import EngineDep
from serving.engine import Recommendation, RecommendationEngine
from serving.engine.browse import new_titles, popular
from serving.schemas import ItemId, ItemsResponse, RecommendedItem, errors

router = APIRouter(tags=["items"])

K = Annotated[int, Query(ge=1, le=1000)]


def _items(engine: RecommendationEngine, rows: list[Recommendation]) -> ItemsResponse:
    return ItemsResponse(
        items=[RecommendedItem(**vars(r)) for r in rows],
        model_version=engine.model_version,
        index_version=engine.index_version,
    )


@router.get("/items/popular", response_model=ItemsResponse, responses=errors(503))
def popular_items(engine: EngineDep, k: K = 12) -> ItemsResponse:
    """Most liked in the run's recent window (``recent_days``), then all time ("Popular now")."""
    return _items(engine, popular(engine, k))


@router.get("/items/new", response_model=ItemsResponse, responses=errors(503))
def new_items(engine: EngineDep, k: K = 12) -> ItemsResponse:
    """Titles with no or few likes (the pipeline's "fresh" rule, ``fresh_max_count``), newest
    first; titles added to the catalog after the run count as fresh. May be empty."""
    return _items(engine, new_titles(engine, k))


@router.get(
    "/items/{item_id}/similar",
    response_model=ItemsResponse,
    responses=errors(
        (404, "The item is not in the catalog."),
        (409, "The modality has no vectors in the feature store, or the item has none."),
        503,
    ),
)
def similar_items(
    item_id: Annotated[ItemId, Path()],
    engine: EngineDep,
    k: K = 10,
    modality: Literal["fused", "text", "image", "video"] | None = None,
) -> ItemsResponse:
    """Nearest items by fused (default, else text), text, image (poster) or video (trailer)."""
    return _items(engine, engine.similar(item_id, k=k, modality=modality))
