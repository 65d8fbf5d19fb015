"""Posters and trailers, looked up by item id only: a client never names a file path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from recsys.core.catalog import confined_media_path
from serving.deps import EngineDep, StateDep
from serving.engine import RecommendationEngine
from serving.schemas import ItemId, errors
from serving.state import ServiceState

router = APIRouter(tags=["media"])

_IMAGE = {"content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}}
_VIDEO = {"content": {"video/*": {"schema": {"type": "string", "format": "binary"}}}}
_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}  # Starlette's own
_CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get(
    "/media/posters/{item_id}",
    response_class=FileResponse,
    responses={
        200: {"description": "The poster image, as stored.", **_IMAGE},
        **errors((404, "Unknown item, or it has no poster file."), 503),
    },
)
def poster(
    item_id: Annotated[ItemId, PathParam()], engine: EngineDep, state: StateDep
) -> FileResponse:
    return _serve(engine.poster_file, item_id, "poster", engine, state)


@router.get(
    "/media/trailers/{item_id}",
    response_class=FileResponse,
    responses={
        200: {"description": "The trailer video, as stored.", **_VIDEO},
        206: {"description": "The bytes a `Range: bytes=start-end` header asked for.", **_VIDEO},
        400: {"description": "A malformed `Range` header (plain text).", **_TEXT},
        **errors((404, "Unknown item, or it has no trailer file."), 503),
        416: {"description": "The range starts beyond the end of the file.", **_TEXT},
    },
)
def trailer(
    item_id: Annotated[ItemId, PathParam()], engine: EngineDep, state: StateDep
) -> FileResponse:
    """Range requests are answered (206), so a browser can seek and stream the video."""
    return _serve(engine.trailer_file, item_id, "trailer", engine, state)


def _serve(
    find: Callable[[int], Path | None],
    item_id: int,
    what: str,
    engine: RecommendationEngine,
    state: ServiceState,
) -> FileResponse:
    try:
        path = find(item_id)
    except PermissionError:
        path = None  # a catalog row pointing outside the media root is never served
    if path is None or not _allowed(path, engine, state) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"item {item_id} has no {what}")
    return FileResponse(path, headers=_CACHE)


def _allowed(path: Path, engine: RecommendationEngine, state: ServiceState) -> bool:
    """Only the workspace, the catalog's media root and configured media roots are readable.

    The catalog's own rule (``confined_media_path``): the path, normalised lexically, must lie
    under a resolved root; a symlink inside the dataset (``posters/`` -> another disk) is the
    dataset's layout and is followed when the file is opened, not held against it.
    """
    roots = [state.ws.root, *state.settings.media_roots]
    media_root = engine.snap.catalog.media_root
    if media_root is not None:
        roots.append(media_root)
    for root in roots:
        try:
            confined_media_path(root, path)
        except PermissionError:
            continue
        return True
    return False
