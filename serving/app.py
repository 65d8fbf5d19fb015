"""App factory: ``create_app(settings)`` wires routers, middleware and the engine lifespan."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
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
from serving.settings import Settings
from serving.state import ServiceState

log = logging.getLogger(__name__)


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

    app = FastAPI(
        title="Multimodal recommendations",
        version="0.1.0",
        description="Personal recommendations from viewing history, posters, trailers, ratings "
        "and text; OpenAI-compatible embeddings; live events.",
        lifespan=lifespan,
    )
    app.state.service = state
    for module in (recommendations, users, items, search, events, openai_compat, media, ops, web):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    _add_error_handlers(app)
    # Outermost first: size limit rejects before anything else reads the body.
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    def handler(code: int):
        async def handle(request: Request, exc: Exception) -> JSONResponse:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            return JSONResponse({"detail": message}, status_code=code)

        return handle

    app.add_exception_handler(UnknownItemError, handler(404))
    app.add_exception_handler(ModalityUnavailableError, handler(409))
    app.add_exception_handler(EncoderUnavailable, handler(501))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        # OpenAI-style bodies ({"error": ...}) go out as they are, everything else as detail.
        assert isinstance(exc, HTTPException)
        body = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(HTTPException, http_error)
