"""Operations: liveness, readiness, metrics, versions and on-demand reload."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from serving.deps import ApiKeyDep, StateDep
from serving.schemas import ReloadResponse, VersionResponse

router = APIRouter(tags=["ops"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process is up (says nothing about the models: see /ready)."""
    return {"status": "ok"}


@router.get("/ready")
def ready(state: StateDep, response: Response) -> dict:
    """200 once an engine snapshot serves; 503 (with the load error, if any) before."""
    if state.engine is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "loading" if not state.load_error else "error", "error": state.load_error}
    return {
        "status": "ready",
        "model_version": state.engine.model_version,
        "index_version": state.engine.index_version,
    }


@router.get("/metrics")
def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/version", response_model=VersionResponse)
def version(state: StateDep) -> VersionResponse:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as pkg_version

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


@router.post("/admin/reload", response_model=ReloadResponse)
async def reload(_: ApiKeyDep, state: StateDep) -> ReloadResponse:
    """Rebuild the engine from artifacts/current now and swap it in (requests keep flowing)."""
    start = time.perf_counter()
    engine = await run_in_threadpool(state.reload)
    if engine is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"reload failed, still serving the previous version: {state.load_error}",
        )
    return ReloadResponse(
        model_version=engine.model_version,
        index_version=engine.index_version,
        seconds=round(time.perf_counter() - start, 3),
    )
