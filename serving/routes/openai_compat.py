"""OpenAI-compatible embeddings, so any OpenAI client can embed text in the catalog's space."""

from __future__ import annotations

import base64

import numpy as np
from fastapi import APIRouter, HTTPException, Response, status

from serving.deps import StateDep
from serving.engine import EncoderPool, EncoderUnavailable
from serving.heavy import HeavyDep, PoolSaturated, overloaded
from serving.schemas import (
    Embedding,
    EmbeddingsRequest,
    EmbeddingsResponse,
    ErrorBody,
    ModelCard,
    ModelsResponse,
    OpenAIErrorBody,
    Usage,
    errors,
)

router = APIRouter(prefix="/v1", tags=["openai"])

TEXT_MODEL = "all-MiniLM-L6-v2"
ALIASES = {
    TEXT_MODEL: "text",
    "minilm": "text",
    f"sentence-transformers/{TEXT_MODEL}": "text",
    "clip-text": "clip-text",
}
MAX_INPUTS = 2048  # OpenAI's own limit per request
MAX_INPUT_CHARS = 8192  # about 2k tokens: far past every served encoder's window (MiniLM: 128)
MAX_TOTAL_CHARS = 1_000_000  # tokenizing is linear in characters, truncation or not
_RESPONSES: dict[int | str, dict] = {
    400: {
        # ours, or FastAPI's own {"detail"} for a body that is not UTF-8 JSON text
        "model": OpenAIErrorBody | ErrorBody,
        "description": "Inputs over the limits, wrong dimensions, or a body that is not JSON.",
    },
    404: {"model": OpenAIErrorBody, "description": "Unknown model, or its encoder is not set up."},
    503: {"model": OpenAIErrorBody, "description": "Busy: retry after `Retry-After` seconds."},
    **errors(413),
}


def _body(message: str, param: str | None = None, kind: str = "invalid_request_error") -> dict:
    # OpenAI clients read {"error": {...}}; the app's handler passes dict details through.
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def _error(code: int, message: str, param: str | None = None) -> HTTPException:
    return HTTPException(code, _body(message, param))


@router.get("/models", response_model=ModelsResponse)
def list_models(state: StateDep) -> ModelsResponse:
    ids = [TEXT_MODEL] + (["clip-text"] if state.encoders.has_clip else [])
    created = int(state.started)
    return ModelsResponse(data=[ModelCard(id=i, created=created) for i in ids])


@router.post("/embeddings", response_model=EmbeddingsResponse, responses=_RESPONSES)
async def create_embeddings(body: EmbeddingsRequest, state: StateDep, heavy: HeavyDep) -> Response:
    """Embed one string or a list of strings; ``encoding_format`` float or base64.

    Limits: ``MAX_INPUTS`` strings of at most ``MAX_INPUT_CHARS`` characters each and
    ``MAX_TOTAL_CHARS`` in all (400 beyond); 503 with ``Retry-After`` while the server is busy.
    """
    kind = ALIASES.get(body.model)
    if kind is None:
        raise _error(
            status.HTTP_404_NOT_FOUND,
            f"model {body.model!r} does not exist; available: {TEXT_MODEL}",
            "model",
        )
    texts = _checked_inputs(body.input)
    try:
        payload = await heavy.run(_embed, state.encoders, kind, body, texts)
    except PoolSaturated as exc:
        raise overloaded(exc, _body(str(exc), kind="server_error")) from None
    return Response(payload, media_type="application/json")


def _checked_inputs(raw: str | list[str]) -> list[str]:
    """The input strings, or a 400 naming the limit they break (cheap checks, on the loop)."""
    texts = [raw] if isinstance(raw, str) else raw
    if not texts or len(texts) > MAX_INPUTS or any(not t for t in texts):
        raise _error(
            status.HTTP_400_BAD_REQUEST, f"input must be 1..{MAX_INPUTS} non-empty strings", "input"
        )
    for i, text in enumerate(texts):
        if len(text) > MAX_INPUT_CHARS:
            raise _error(
                status.HTTP_400_BAD_REQUEST,
                f"input[{i}] has {len(text)} characters; the limit is {MAX_INPUT_CHARS} per input",
                "input",
            )
    total = sum(len(t) for t in texts)
    if total > MAX_TOTAL_CHARS:
        raise _error(
            status.HTTP_400_BAD_REQUEST,
            f"input has {total} characters in all; the limit is {MAX_TOTAL_CHARS} per request",
            "input",
        )
    return texts


def _embed(encoders: EncoderPool, kind: str, body: EmbeddingsRequest, texts: list[str]) -> bytes:
    """The response body, built on the heavy pool: loading the model, encoding, counting tokens
    and building thousands of floats into JSON all take CPU (the last two, the GIL too)."""
    try:
        encoder = encoders.text() if kind == "text" else encoders.clip_text()
    except EncoderUnavailable as exc:
        raise _error(status.HTTP_404_NOT_FOUND, str(exc), "model") from None
    if body.dimensions is not None and body.dimensions != encoder.dim:
        raise _error(
            status.HTTP_400_BAD_REQUEST,
            f"{body.model} embeddings have {encoder.dim} dimensions",
            "dimensions",
        )
    vectors = np.asarray(encoder.encode(texts), np.float32)  # (N, d)
    tokens = encoder.count_tokens(texts)
    data = [
        Embedding(index=i, embedding=_encode(v, body.encoding_format))
        for i, v in enumerate(vectors)
    ]
    response = EmbeddingsResponse(
        data=data, model=body.model, usage=Usage(prompt_tokens=tokens, total_tokens=tokens)
    )
    return response.model_dump_json().encode()


def _encode(vector: np.ndarray, fmt: str):
    if fmt == "base64":  # what the official client asks for by default: little-endian float32
        return base64.b64encode(vector.astype("<f4").tobytes()).decode()
    return vector.tolist()
