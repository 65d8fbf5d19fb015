"""App factory: ``create_app(settings)`` wires routers, middleware and the engine lifespan."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from recsys.core.settings import offline_hub
from serving.engine import (
    EncoderPool,
    EncoderUnavailable,
    ModalityUnavailableError,
    RecommendationEngine,
    UnknownItemError,
)
from serving.heavy import DEFAULT_WORKERS, HeavyPool
from serving.lanes import DEFAULT_RANK_THREADS, RankingLane
from serving.limits import BodySizeLimitMiddleware
from serving.metrics import Metrics, MetricsMiddleware
from serving.routes import (
    events,
    items,
    media,
    openai_compat,
    ops,
    recommendations,
    search,
    users,
    web,
)
from serving.schemas import ErrorBody, OpenAIErrorBody, ValidationErrorBody, errors
from serving.settings import Settings
from serving.state import ServiceState

log = logging.getLogger(__name__)

MAX_ECHO = 200  # characters of an invalid input a 422 sends back

# Error statuses and bodies of the routers whose modules do not declare them (yet); per router,
# so each applies to all its routes. tests/serving/test_fuzz.py holds every answer to the spec.
_ROUTER_ERRORS: dict[str, dict[int | str, dict[str, Any]]] = {
    search.__name__: {
        **errors(
            (409, "The feature store has no item_text (query) or item_image (picture) vectors."),
            413,
            (415, "The upload is not an image of a supported type."),
            (501, "A picture search, but no CLIP checkpoint is set (RECSYS_CLIP_CHECKPOINT)."),
            503,
        ),
        422: {"model": ValidationErrorBody, "description": "The body or upload is invalid."},
    },
    openai_compat.__name__: {
        # FastAPI's own 400 (a body that is not UTF-8) has the plain {"detail"} shape
        400: {
            "model": OpenAIErrorBody | ErrorBody,
            "description": "Empty input, too many inputs, wrong dimensions, or unreadable body.",
        },
        404: {"model": OpenAIErrorBody, "description": "No such model on this server."},
        **errors(413),
        503: {"model": OpenAIErrorBody, "description": "Busy: retry after `Retry-After` s."},
    },
}


def create_app(
    settings: Settings | None = None,
    engine: RecommendationEngine | None = None,
    encoders: EncoderPool | None = None,
) -> FastAPI:
    """Build the service.

    Args:
        settings: Configuration (default: read from ``RECSYS_*`` environment variables).
        engine: An already loaded engine to serve at once (tests share one); otherwise the
            lifespan loads ``artifacts/current`` in the background and /ready says when.
        encoders: Shared online encoders (default: created lazily from ``settings``).
    """
    offline_hub()  # before any encoder can load: weights ship locally, never downloaded
    settings = settings or Settings()
    metrics = Metrics()
    state = ServiceState(settings, metrics, encoders or (engine.encoders if engine else None))

    heavy = HeavyPool(settings.heavy_workers or DEFAULT_WORKERS, settings.heavy_max_waiting)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        tasks = []
        if engine is not None:
            state.install(engine)
        else:
            # /ready reports a failure; the watcher retries once the served run changes
            tasks.append(asyncio.create_task(asyncio.to_thread(state.reload)))
        tasks.append(asyncio.create_task(state.watch()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, Exception):  # CancelledError is not one: a real failure
                    log.error("background task failed: %r", result)
            heavy.shutdown()

    app = FastAPI(
        title="Multimodal recommendations",
        version="0.1.0",
        description="Personal recommendations from viewing history, posters, trailers, ratings "
        "and text; OpenAI-compatible embeddings; live events.",
        lifespan=lifespan,
    )
    app.state.service = state
    app.state.heavy = heavy
    app.state.ranking_lane = RankingLane(settings.rank_threads or DEFAULT_RANK_THREADS)
    for module in (recommendations, users, items, search, events, openai_compat, media, ops, web):
        app.include_router(module.router, responses=_ROUTER_ERRORS.get(module.__name__))
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    _add_error_handlers(app)
    # Outermost first: size limit rejects before anything else reads the body.
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    return app


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: an echoed input may hold lone surrogates, not UTF-8-able."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _echo(value: Any) -> Any:
    """An invalid input as a 422 may send it back: text, short, finite, JSON-encodable."""
    if isinstance(value, bytes | bytearray):  # a body that was not UTF-8
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "…"
    if isinstance(value, float) and not math.isfinite(value):  # JSON's NaN is not JSON
        return str(value)
    if isinstance(value, dict):
        return {str(k): _echo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_echo(v) for v in value]
    return value


def _add_error_handlers(app: FastAPI) -> None:
    def handler(code: int):
        async def handle(request: Request, exc: Exception) -> JSONResponse:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            return JSONResponse({"detail": message}, status_code=code)

        return handle

    app.add_exception_handler(UnknownItemError, handler(404))
    app.add_exception_handler(ModalityUnavailableError, handler(409))

    async def encoder_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # one wrapping a library's failure carries that library's text (paths, versions)
        message = str(exc)
        if exc.__cause__ is not None:
            log.warning("%s %s: %s", request.method, request.url.path, message)
            message = "the encoder this request needs cannot be loaded (see the server log)"
        return JSONResponse({"detail": message}, status_code=501)

    app.add_exception_handler(EncoderUnavailable, encoder_unavailable)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        # OpenAI-style bodies ({"error": ...}) go out as they are, everything else as detail.
        assert isinstance(exc, HTTPException)
        body = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(HTTPException, http_error)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own handler echoes inputs as they came: a body that is not UTF-8 or holds
        # lone surrogates made it fail with a 500, and an 8 MB body went back whole.
        assert isinstance(exc, RequestValidationError)
        detail = []
        for error in exc.errors():
            error = {k: v for k, v in error.items() if k != "url"}
            if "input" in error:
                error["input"] = _echo(error["input"])
            if isinstance(error.get("ctx"), dict):  # a validator's ValueError: its message
                error["ctx"] = {
                    k: str(v) if isinstance(v, Exception) else _echo(v)
                    for k, v in error["ctx"].items()
                }
            detail.append(error)
        return _AsciiJSONResponse({"detail": jsonable_encoder(detail)}, status_code=422)

    app.add_exception_handler(RequestValidationError, validation_error)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # a bug: Starlette re-raises after this, so the server logs the traceback; the client
        # gets one line, never the exception's text
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    app.add_exception_handler(Exception, unexpected)
