"""Search the catalog by free text (MiniLM) or by an uploaded picture (CLIP)."""

from __future__ import annotations

import io

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from serving.deps import EngineDep
from serving.schemas import ItemsResponse, RecommendedItem, SearchRequest

router = APIRouter(tags=["search"])

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"}

_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SearchRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        "k": {"type": "integer", "default": 10},
                    },
                    "required": ["image"],
                }
            },
        },
    }
}


@router.post("/search", response_model=ItemsResponse, openapi_extra=_OPENAPI)
async def search(request: Request, engine: EngineDep) -> ItemsResponse:
    """JSON ``{"query": "space adventure", "k": 10}``, or a multipart ``image`` upload."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        image, k = await _read_image(request)
        rows = await run_in_threadpool(engine.search_image, image, k)
    else:
        try:
            body = SearchRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            ) from None
        rows = await run_in_threadpool(engine.search_text, body.query, body.k)
    return ItemsResponse(
        items=[RecommendedItem(**vars(r)) for r in rows],
        model_version=engine.model_version,
        index_version=engine.index_version,
    )


async def _read_image(request: Request):
    from PIL import Image, UnidentifiedImageError

    form = await request.form()
    upload = form.get("image")
    if upload is None or isinstance(upload, str):
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body", "image"), "msg": "Field required", "input": None}]
        )
    k_raw = form.get("k", "10")
    if not isinstance(k_raw, str) or not k_raw.isdigit() or not 1 <= int(k_raw) <= 1000:
        raise RequestValidationError(
            [
                {
                    "type": "int_parsing",
                    "loc": ("body", "k"),
                    "input": k_raw,
                    "msg": "k must be an integer in 1..1000",
                }
            ]
        )
    if upload.content_type and upload.content_type not in IMAGE_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"image must be one of {sorted(IMAGE_TYPES)}, got {upload.content_type}",
        )
    data = await upload.read()
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"upload is not a readable image: {exc}"
        ) from None
    return image.convert("RGB"), int(k_raw)
