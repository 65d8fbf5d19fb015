"""Posters, looked up by item id only: a client never names a file path."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from serving.deps import EngineDep, StateDep

router = APIRouter(tags=["media"])


@router.get("/media/posters/{item_id}")
def poster(item_id: int, engine: EngineDep, state: StateDep) -> FileResponse:
    try:
        path = engine.poster_file(item_id)
    except PermissionError:
        path = None  # a catalog row pointing outside the media root is never served
    if path is None or not _allowed(path, engine, state) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"item {item_id} has no poster")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


def _allowed(path: Path, engine, state) -> bool:
    """Only the workspace, the catalog's media root and configured media roots are readable."""
    roots = [state.ws.root, *state.settings.media_roots]
    media_root = engine.snap.catalog.media_root
    if media_root is not None:
        roots.append(media_root)
    real = path.resolve()
    return any(real.is_relative_to(Path(r).resolve()) for r in roots)
