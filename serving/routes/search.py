"""Search the catalog by free text (MiniLM) or by an uploaded picture (CLIP).

Order of the upload checks, cheapest first, so a request that cannot succeed costs nothing:
image search configured (501, 409) → the form and its fields (422) → declared type (415) → the
header, read by the shared loader ``features.media.open_image`` on the heavy pool: format
allow-list (415) and pixel limit (413) before any pixel is decoded → decode (415) → search.
The body size limit (413) applies before all of them (``serving.limits``).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from features.encoders.base import EncodeError
from features.media import IMAGE_FORMATS, open_image
from serving.deps import EngineDep
from serving.engine import EncoderUnavailable, Recommendation, RecommendationEngine
from serving.engine.encoders import NO_CLIP
from serving.heavy import HeavyDep, PoolSaturated, overloaded
from serving.schemas import (
    ItemsResponse,
    RecommendedItem,
    SearchRequest,
    ValidationErrorBody,
    errors,
)

router = APIRouter(tags=["search"])

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"}
UPLOAD_LABEL = "uploaded image"

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
    },
}
_RESPONSES = {
    **errors(
        (409, "The feature store has no vectors to search (item_text, or item_image)."),
        (413, "The body is over the server's limit, or the image declares too many pixels."),
        (415, f"The upload is not a readable {', '.join(IMAGE_FORMATS)} image."),
        (501, "Needs an encoder this server lacks: no image encoder (CLIP) configured."),
        (503, "No run loaded yet, or the server is busy: retry after `Retry-After` seconds."),
    ),
    # validated by hand (JSON or a form), so FastAPI does not declare its own 422 here
    422: {"model": ValidationErrorBody, "description": "Invalid body, query or form fields."},
}


@router.post("/search", response_model=ItemsResponse, openapi_extra=_OPENAPI, responses=_RESPONSES)
async def search(request: Request, engine: EngineDep, heavy: HeavyDep) -> ItemsResponse:
    """JSON ``{"query": "space adventure", "k": 10}``, or a multipart ``image`` upload."""
    ctype = request.headers.get("content-type", "")
    try:
        if ctype.startswith("multipart/form-data"):
            _require_image_search(engine)  # before the upload is even read
            data, k = await _read_upload(request)
            rows = await heavy.run(_search_upload, engine, data, k)
        else:
            body = _parse_json(await request.body())
            rows = await heavy.run(engine.search_text, body.query, body.k)
    except PoolSaturated as exc:
        raise overloaded(exc) from None
    return ItemsResponse(
        items=[RecommendedItem(**vars(r)) for r in rows],
        model_version=engine.model_version,
        index_version=engine.index_version,
    )


def _require_image_search(engine: RecommendationEngine) -> None:
    """501 without CLIP, 409 without poster vectors: answered from config, in microseconds."""
    if not engine.encoders.has_clip:
        raise EncoderUnavailable(NO_CLIP)
    engine.modality("image")


def _parse_json(raw: bytes) -> SearchRequest:
    try:
        return SearchRequest.model_validate_json(raw)
    except ValidationError as exc:
        errors = []
        for e in exc.errors(include_url=False):
            if isinstance(e.get("input"), bytes):  # invalid JSON: the raw body, maybe not UTF-8
                e = {**e, "input": e["input"][:200].decode("utf-8", "replace")}
            errors.append({**e, "loc": ("body", *e["loc"])})
        raise RequestValidationError(errors) from None


async def _read_upload(request: Request) -> tuple[bytes, int]:
    """The ``image`` part's bytes and ``k``; 422 for missing/bad fields, 415 for a bad type."""
    form = await _form(request)
    try:
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            raise _invalid(("body", "image"), "missing", "Field required", None)
        k_raw = form.get("k", "10")
        if not isinstance(k_raw, str) or not k_raw.isdigit() or not 1 <= int(k_raw) <= 1000:
            value = k_raw if isinstance(k_raw, str) else None
            raise _invalid(("body", "k"), "int_parsing", "k must be an integer in 1..1000", value)
        if upload.content_type and upload.content_type not in IMAGE_TYPES:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                f"image must be one of {sorted(IMAGE_TYPES)}, got {upload.content_type}",
            )
        return await upload.read(), int(k_raw)
    finally:
        await form.close()  # the spooled upload files


async def _form(request: Request) -> FormData:
    try:
        return await request.form()
    except StarletteHTTPException as exc:  # Starlette's 400 for a malformed multipart body
        raise _invalid(("body",), "value_error", exc.detail, None) from None


def _invalid(
    loc: tuple[str, ...], kind: str, msg: str, value: str | None
) -> RequestValidationError:
    """A 422 shaped like FastAPI's own (this route validates its body by hand)."""
    return RequestValidationError([{"type": kind, "loc": loc, "msg": msg, "input": value}])


def _search_upload(engine: RecommendationEngine, data: bytes, k: int) -> list[Recommendation]:
    """Decode (header checks first) and search; runs on the heavy pool."""
    try:
        image = open_image(data, label=UPLOAD_LABEL)
    except EncodeError as exc:
        code = (
            status.HTTP_413_CONTENT_TOO_LARGE
            if exc.reason == "decompression_bomb"
            else status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
        )
        raise HTTPException(code, str(exc)) from None
    return engine.search_image(image, k)
