"""Request and response bodies of the public API (pydantic, unknown fields rejected)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecommendedItem(BaseModel):
    item_id: int
    title: str
    score: float
    rank: int
    reason: str
    poster_url: str | None = None
    reason_kind: str | None = Field(
        None,
        description="what drove the reason: text, image, video, review_text, collaborative, "
        "tower, popular, fresh, taste or query (the ranker's strongest feature group)",
    )
    contributions: dict[str, float] | None = Field(
        None, description="the ranker's largest per-feature contributions to this score"
    )


class RecommendationsResponse(BaseModel):
    user_id: int | None = None
    items: list[RecommendedItem]
    cold_start: bool
    model_version: str
    index_version: str


class AnonymousRequest(Strict):
    history: list[int] = Field(
        default_factory=list,
        max_length=1000,
        description="Item ids the person liked, oldest first.",
    )
    text: str | None = Field(default=None, max_length=2000, description="What they feel like.")
    k: int = Field(default=10, ge=1, le=1000)
    exclude_seen: bool = True
    diversity: float = Field(default=0.0, ge=0.0, le=1.0)
    genre: str | None = None
    year_min: int | None = None
    year_max: int | None = None


class ItemsResponse(BaseModel):
    items: list[RecommendedItem]
    model_version: str
    index_version: str


class SearchRequest(Strict):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=10, ge=1, le=1000)


class Event(Strict):
    user_id: int
    item_id: int
    kind: Literal["view", "rating", "review"] = "view"
    rating: float | None = Field(default=None, ge=1.0, le=5.0)
    timestamp: datetime | None = None
    review_text: str | None = Field(default=None, max_length=10_000)
    watch_fraction: float | None = Field(default=None, ge=0.0, le=1.0)


class EventsRequest(Strict):
    events: list[Event] = Field(min_length=1, max_length=10_000)


class RejectedEvent(BaseModel):
    index: int
    error: str


class EventsResponse(BaseModel):
    accepted: int
    rejected: list[RejectedEvent]
    path: str


class UserSummary(BaseModel):
    user_id: int
    n_liked: int


class UsersResponse(BaseModel):
    users: list[UserSummary]


class HistoryItem(BaseModel):
    item_id: int
    title: str
    poster_url: str | None = None


class HistoryResponse(BaseModel):
    user_id: int
    known: bool
    items: list[HistoryItem]


class EmbeddingsRequest(BaseModel):
    """OpenAI ``/v1/embeddings`` body; extra fields (``user``) are accepted and ignored."""

    model: str
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str
    index: int


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: Usage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "recsys"


class ModelsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ReloadResponse(BaseModel):
    model_version: str
    index_version: str
    seconds: float


class VersionResponse(BaseModel):
    service: str
    model_version: str | None
    index_version: str | None
    run_dir: str | None
    modalities: list[str]
