"""Operations: liveness, readiness, metrics, versions and on-demand reload."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as pkg_version

from fastapi import APIRouter, HTTPException, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from serving.deps import ApiKeyDep, StateDep
from serving.schemas import ReadyResponse, ReloadResponse, VersionResponse, errors

router = APIRouter(tags=["ops"])


# /health and /ready are async (their dependencies too): they answer on the event loop, never
# behind request threads busy with ranking or encoding
@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up (says nothing about the models: see /ready)."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses={503: {"model": ReadyResponse, "description": "Still loading, or the load failed."}},
)
async def ready(state: StateDep, response: Response) -> ReadyResponse:
    """200 once an engine snapshot serves; 503 (with why the load failed, if it did) before."""
    engine = state.engine
    if engine is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        error = state.load_error  # the state's one short line; the full error is in the log
        return ReadyResponse(status="error" if error else "loading", error=error)
    return ReadyResponse(
        status="ready",
        model_version=engine.model_version,
        index_version=engine.index_version,
        last_reload_error=state.load_error,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
        }
    },
)
def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/version", response_model=VersionResponse)
def version(state: StateDep) -> VersionResponse:
    try:
        service = pkg_version("recsys-multimodal")
    except PackageNotFoundError:
        service = "dev"
    engine = state.engine
    return VersionResponse(
        service=service,
        model_version=engine.model_version if engine else None,
        index_version=engine.index_version if engine else None,
        run_dir=engine.snap.run.name if engine else None,
        modalities=sorted(engine.snap.modalities) if engine else [],
    )


@router.post(
    "/admin/reload",
    response_model=ReloadResponse,
    responses=errors(
        401, 403, (409, "The served run cannot be loaded; the previous one keeps serving.")
    ),
)
async def reload(_: ApiKeyDep, state: StateDep) -> ReloadResponse:
    """Rebuild the engine from artifacts/current now and swap it in (requests keep flowing)."""
    start = time.perf_counter()
    engine = await run_in_threadpool(state.reload)
    if engine is None:
        served = state.engine.model_version if state.engine else None
        kept = f"still serving {served}" if served else "nothing is served yet"
        raise HTTPException(status.HTTP_409_CONFLICT, f"reload failed ({state.load_error}); {kept}")
    return ReloadResponse(
        model_version=engine.model_version,
        index_version=engine.index_version,
        seconds=round(time.perf_counter() - start, 3),
    )
