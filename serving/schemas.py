"""Request and response bodies of the public API (pydantic, unknown fields rejected).

Every value a client sends is bounded here, so a request the engine cannot handle is a 422 at
the edge rather than a 500 deep inside numpy (ids are int64 in every table and array).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

INT64_MAX = 2**63 - 1


def _encodable(value: str) -> str:
    # JSON escapes such as "\ud800" put lone surrogates into a str; no tokenizer, log line or
    # UTF-8 response can carry them, so they are refused here instead of failing later
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogate escapes)") from None
    return value


ItemId = Annotated[int, Field(ge=0, le=INT64_MAX, description="A catalog item id (int64).")]
UserId = Annotated[int, Field(ge=0, le=INT64_MAX, description="A user id (int64).")]
Year = Annotated[int, Field(ge=0, le=9999)]
Text = Annotated[str, AfterValidator(_encodable)]
Genre = Annotated[
    Text, Field(max_length=100, description="One of the catalog's genres (case-insensitive).")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every error except 422 (FastAPI's validation list) and the OpenAI routes' own shape."""

    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationErrorBody(BaseModel):
    """A 422, for routes that validate by hand (FastAPI declares its own elsewhere)."""

    detail: list[ValidationIssue]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    """What OpenAI clients parse: ``{"error": {"message": ..., "type": ..., ...}}``."""

    error: OpenAIErrorDetail


ERROR_DESCRIPTIONS = {
    400: "The body could not be read as JSON text (not UTF-8).",
    401: "No API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
    403: "Wrong API key, or no key is configured on the server (RECSYS_API_KEY).",
    404: "Not found.",
    409: "The served run cannot answer this (the detail says what is missing).",
    413: "The request body is larger than the server's limit (RECSYS_MAX_BODY_BYTES).",
    415: "Unsupported media type.",
    501: "Needs an encoder this server is not configured with (the detail says which).",
    503: "No run is loaded yet (the detail says why); retry once /ready answers 200.",
}


def errors(*statuses: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for error statuses, each with the ``{"detail": str}`` body.

    A ``(status, description)`` pair words one for its route; 422 is FastAPI's own
    (``HTTPValidationError``), declared by FastAPI on every route that validates input.
    """
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        code, text = status if isinstance(status, tuple) else (status, ERROR_DESCRIPTIONS[status])
        out[code] = {"model": ErrorBody, "description": text}
    return out


class Filters(Strict):
    """Business-rule filters; an unknown genre is refused by the route (it knows the catalog)."""

    genre: Genre | None = None
    year_min: Year | None = None
    year_max: Year | None = None

    @field_validator("year_max")
    @classmethod
    def _not_below_min(cls, year_max: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("year_min")
        if year_max is not None and low is not None and low > year_max:  # would match nothing
            raise ValueError(f"year_max must not be below year_min ({low})")
        return year_max


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


class AnonymousRequest(Filters):
    history: list[ItemId] = Field(
        default_factory=list,
        max_length=1000,
        description="Item ids the person liked, oldest first.",
    )
    seen: list[ItemId] = Field(
        default_factory=list,
        max_length=1000,
        description='Item ids already watched or turned down ("not for me"): left out of the '
        "list when exclude_seen, never taken as likes.",
    )
    text: Text | None = Field(default=None, max_length=2000, description="What they feel like.")
    k: int = Field(default=10, ge=1, le=1000)
    exclude_seen: bool = True
    diversity: float = Field(default=0.0, ge=0.0, le=1.0)


class ItemsResponse(BaseModel):
    items: list[RecommendedItem]
    model_version: str
    index_version: str


class SearchRequest(Strict):
    query: Text = Field(min_length=1, max_length=2000)
    k: int = Field(default=10, ge=1, le=1000)


class Event(Strict):
    user_id: UserId
    item_id: ItemId
    kind: Literal["view", "rating", "review"] = "view"
    rating: float | None = Field(default=None, ge=1.0, le=5.0)
    timestamp: datetime | None = None
    review_text: Text | None = Field(default=None, max_length=10_000)
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
    items: list[HistoryItem] = Field(description="Liked items, newest first.")
    seen: list[int] = Field(
        description="Every item the user watched, liked or not (send it as `seen` to "
        "POST /recommendations so badly rated titles stay out)."
    )


class EmbeddingsRequest(BaseModel):
    """OpenAI ``/v1/embeddings`` body; extra fields (``user``) are accepted and ignored."""

    model: Text = Field(max_length=200, examples=["all-MiniLM-L6-v2"])
    input: Text | list[Text]
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


class ReadyResponse(BaseModel):
    status: Literal["ready", "loading", "error"]
    model_version: str | None = None
    index_version: str | None = None
    error: str | None = Field(
        default=None, description="why the last load failed: one short line, no filesystem paths"
    )
    last_reload_error: str | None = Field(
        default=None,
        description="while ready: why loading a newer run failed (the previous run keeps "
        "serving and the load is retried with backoff)",
    )


class VersionResponse(BaseModel):
    service: str
    model_version: str | None
    index_version: str | None
    run_dir: str | None = Field(
        description="name of the served run under <workspace>/artifacts (never a filesystem path)"
    )
    modalities: list[str]
