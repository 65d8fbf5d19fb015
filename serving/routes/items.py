"""Item pages: "more like this" in one modality."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from serving.deps import EngineDep
from serving.schemas import ItemsResponse, RecommendedItem

router = APIRouter(tags=["items"])


@router.get("/items/{item_id}/similar", response_model=ItemsResponse)
def similar_items(
    item_id: int,
    engine: EngineDep,
    k: Annotated[int, Query(ge=1, le=1000)] = 10,
    modality: Literal["fused", "text", "image", "video"] | None = None,
) -> ItemsResponse:
    """Nearest items by fused (default, else text), text, image (poster) or video (trailer)."""
    rows = engine.similar(item_id, k=k, modality=modality)
    return ItemsResponse(
        items=[RecommendedItem(**vars(r)) for r in rows],
        model_version=engine.model_version,
        index_version=engine.index_version,
    )
