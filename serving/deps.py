"""Annotated dependencies the route handlers declare (engine, state, API key)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from serving.engine import RecommendationEngine
from serving.settings import Settings
from serving.state import ServiceState


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


def get_engine(request: Request) -> RecommendationEngine:
    """The engine at the moment the request starts; the request keeps it even across a swap."""
    state: ServiceState = request.app.state.service
    engine = state.engine
    if engine is None:
        detail = "engine not loaded yet"
        if state.load_error:
            detail += f" (last load failed: {state.load_error})"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail)
    return engine


def get_settings(request: Request) -> Settings:
    return request.app.state.service.settings


def require_api_key(request: Request) -> None:
    """``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; 401 missing, 403 wrong."""
    expected = request.app.state.service.settings.api_key
    auth = request.headers.get("authorization", "")
    given = request.headers.get("x-api-key") or (
        auth[7:].strip() if auth.lower().startswith("bearer ") else None
    )
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


StateDep = Annotated[ServiceState, Depends(get_state)]
EngineDep = Annotated[RecommendationEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ApiKeyDep = Annotated[None, Depends(require_api_key)]
