"""OpenAI-compatible embeddings, so any OpenAI client can embed text in the catalog's space."""

from __future__ import annotations

import base64

import numpy as np
from fastapi import APIRouter, HTTPException, status

from serving.deps import StateDep
from serving.engine import EncoderUnavailable
from serving.schemas import (
    Embedding,
    EmbeddingsRequest,
    EmbeddingsResponse,
    ModelCard,
    ModelsResponse,
    Usage,
)

router = APIRouter(prefix="/v1", tags=["openai"])

TEXT_MODEL = "all-MiniLM-L6-v2"
ALIASES = {
    TEXT_MODEL: "text",
    "minilm": "text",
    f"sentence-transformers/{TEXT_MODEL}": "text",
    "clip-text": "clip-text",
}
MAX_INPUTS = 2048


def _error(code: int, message: str, param: str | None = None) -> HTTPException:
    # OpenAI clients read {"error": {...}}; the app's handler passes dict details through.
    return HTTPException(
        code,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": param,
                "code": None,
            }
        },
    )


@router.get("/models", response_model=ModelsResponse)
def list_models(state: StateDep) -> ModelsResponse:
    ids = [TEXT_MODEL] + (["clip-text"] if state.encoders.has_clip else [])
    created = int(state.started)
    return ModelsResponse(data=[ModelCard(id=i, created=created) for i in ids])


@router.post("/embeddings", response_model=EmbeddingsResponse)
def create_embeddings(body: EmbeddingsRequest, state: StateDep) -> EmbeddingsResponse:
    """Embed one string or a list of strings; ``encoding_format`` float or base64."""
    kind = ALIASES.get(body.model)
    if kind is None:
        raise _error(
            status.HTTP_404_NOT_FOUND,
            f"model {body.model!r} does not exist; available: {TEXT_MODEL}",
            "model",
        )
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or len(texts) > MAX_INPUTS or any(not t for t in texts):
        raise _error(
            status.HTTP_400_BAD_REQUEST, f"input must be 1..{MAX_INPUTS} non-empty strings", "input"
        )
    try:
        encoder = state.encoders.text() if kind == "text" else state.encoders.clip_text()
    except EncoderUnavailable as exc:
        raise _error(status.HTTP_404_NOT_FOUND, str(exc), "model") from None
    if body.dimensions is not None and body.dimensions != encoder.dim:
        raise _error(
            status.HTTP_400_BAD_REQUEST,
            f"{body.model} embeddings have {encoder.dim} dimensions",
            "dimensions",
        )
    vectors = np.asarray(encoder.encode(texts), np.float32)  # (N, d)
    tokens = _count_tokens(encoder, texts)
    data = [
        Embedding(index=i, embedding=_encode(v, body.encoding_format))
        for i, v in enumerate(vectors)
    ]
    return EmbeddingsResponse(
        data=data, model=body.model, usage=Usage(prompt_tokens=tokens, total_tokens=tokens)
    )


def _encode(vector: np.ndarray, fmt: str):
    if fmt == "base64":  # what the official client asks for by default: little-endian float32
        return base64.b64encode(vector.astype("<f4").tobytes()).decode()
    return vector.tolist()


def _count_tokens(encoder, texts: list[str]) -> int:
    tokenizer = getattr(getattr(encoder, "model", None), "tokenizer", None)
    if tokenizer is None:
        return sum(len(t.split()) for t in texts)
    return int(sum(len(ids) for ids in tokenizer(texts)["input_ids"]))
