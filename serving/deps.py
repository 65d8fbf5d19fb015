"""Annotated dependencies the route handlers declare (engine, state, API key, filters).

Every dependency here (and ``get_lane``, ``get_heavy``) is ``async def``, though none waits
on anything: FastAPI runs a plain ``def`` dependency on its thread pool, a thread hop per
request for a few attribute reads.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Query, Request, Security, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from serving.engine import RecommendationEngine
from serving.schemas import Filters, Genre, Year
from serving.settings import Settings
from serving.state import ServiceState

# Declared as security schemes so /docs offers "Authorize"; auto_error off: the messages and
# the 401-missing / 403-wrong split below are ours.
_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)
_BEARER = HTTPBearer(auto_error=False)


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


async def get_engine(request: Request) -> RecommendationEngine:
    """The engine at the moment the request starts; the request keeps it even across a swap."""
    state: ServiceState = request.app.state.service
    engine = state.engine
    if engine is None:
        detail = "engine not loaded yet"
        if state.load_error:  # the state's short, path-free line; details are in the log
            detail += f" (last load failed: {state.load_error})"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail)
    return engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.service.settings


async def presented_key(
    header: Annotated[str | None, Security(_KEY_HEADER)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> str | None:
    """``X-API-Key: <key>``, else ``Authorization: Bearer <key>``."""
    return header or (bearer.credentials.strip() if bearer else None)


def _check_key(expected: str | None, given: str | None) -> None:
    if not given:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "API key required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not expected:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "no API key is configured on the server (RECSYS_API_KEY)"
        )
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid API key")


async def require_api_key(
    request: Request, given: Annotated[str | None, Depends(presented_key)]
) -> None:
    """401 when no key is sent, 403 when it is wrong (or none is configured)."""
    _check_key(request.app.state.service.settings.api_key, given)


async def require_user_pages_access(
    request: Request, given: Annotated[str | None, Depends(presented_key)]
) -> None:
    """Listing users and reading histories is private unless ``public_user_pages`` is set."""
    settings: Settings = request.app.state.service.settings
    if not settings.public_user_pages:
        _check_key(settings.api_key, given)


def invalid(loc: tuple[str | int, ...], message: str, value: object) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, for checks that need the served catalog."""
    return RequestValidationError(
        [{"type": "value_error", "loc": loc, "msg": message, "input": value}]
    )


def check_genre(
    engine: RecommendationEngine, genre: str | None, where: Literal["query", "body"]
) -> str | None:
    """The genre filter (None when unset); an unknown one would silently empty every list."""
    if not genre:
        return None
    known = engine.snap.items.genres
    if genre.lower() not in known:
        shown = ", ".join(known[:50]) + (", …" if len(known) > 50 else "")
        raise invalid((where, "genre"), f"unknown genre {genre!r}; the catalog has: {shown}", genre)
    return genre


async def query_filters(
    engine: Annotated[RecommendationEngine, Depends(get_engine)],
    genre: Annotated[Genre | None, Query()] = None,
    year_min: Annotated[Year | None, Query()] = None,
    year_max: Annotated[Year | None, Query()] = None,
) -> Filters:
    """``genre``, ``year_min`` and ``year_max`` query parameters, checked like a body's."""
    try:
        filters = Filters(genre=genre, year_min=year_min, year_max=year_max)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    return filters.model_copy(update={"genre": check_genre(engine, genre, "query")})


StateDep = Annotated[ServiceState, Depends(get_state)]
EngineDep = Annotated[RecommendationEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ApiKeyDep = Annotated[None, Depends(require_api_key)]
UserPagesDep = Annotated[None, Depends(require_user_pages_access)]
QueryFiltersDep = Annotated[Filters, Depends(query_filters)]
