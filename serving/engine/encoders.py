"""Online encoders shared by every engine snapshot (loading a model once per process)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from features.encoders import create_encoder  # the package import registers the built-ins
from features.encoders.base import Encoder, EncodeResult


class EncoderUnavailable(RuntimeError):
    """The encoder a request needs is not configured or cannot be loaded (message says why)."""


NO_CLIP = "no image encoder (CLIP) configured: set RECSYS_CLIP_CHECKPOINT to enable image search"


class SerialEncoder:
    """One shared encoder whose calls run one at a time; usable wherever an ``Encoder`` is.

    Requests call the cached encoder from many threads. A Hugging Face fast tokenizer keeps
    truncation and padding as mutable state on one Rust object: a concurrent call either fails
    ("Already borrowed") or silently tokenizes with another call's settings (untruncated text,
    other vectors). The lazily loaded model must also load once. Tokenizing is a small part of
    a call and torch already spreads one forward over every core, so serialising costs little.
    Attributes not defined here (``name``, ``version``, ``modality`` …) are the encoder's own.
    """

    def __init__(self, encoder: Encoder):
        self.inner = encoder
        self._lock = threading.Lock()
        self._dim: int | None = None

    def __getattr__(self, attr: str) -> Any:
        # only reached for attributes this class lacks (never for ``inner`` once set)
        if attr in ("inner", "_lock", "_dim"):
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def __getstate__(self) -> dict[str, Any]:  # Ray ships encoders by pickle; a lock is not
        return {"inner": self.inner, "_dim": self._dim}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    @property
    def dim(self) -> int:
        if self._dim is None:
            with self._lock:  # the first access may load the model
                self._dim = self.inner.dim
        return self._dim

    def encode(self, inputs: Sequence[Any]) -> np.ndarray:
        with self._lock:
            return self.inner.encode(inputs)

    def encode_batch(self, inputs: Sequence[Any]) -> EncodeResult:
        with self._lock:
            return self.inner.encode_batch(inputs)

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens the encoder reads: each text truncated to its window, as ``encode`` does.

        Encoders that expose no tokenizer (CLIP's text tower) are approximated by words.
        """
        with self._lock:  # the same tokenizer object ``encode`` uses
            model = getattr(self.inner, "model", None)
            tokenizer = getattr(model, "tokenizer", None)
            if tokenizer is None:
                return sum(len(t.split()) for t in texts)
            window = int(getattr(model, "max_seq_length", None) or tokenizer.model_max_length)
            ids = tokenizer(list(texts), truncation=True, max_length=window)["input_ids"]
            return int(sum(len(i) for i in ids))


class EncoderPool:
    """Lazily creates the text encoder and, when a checkpoint is configured, CLIP."""

    def __init__(
        self, text_encoder: str = "minilm", clip_checkpoint: str | None = None, device=None
    ):
        self.text_name = text_encoder
        self.clip_checkpoint = clip_checkpoint
        self.device = device
        self._cache: dict[str, SerialEncoder] = {}
        self._lock = threading.Lock()

    def text(self) -> SerialEncoder:
        """The encoder that embedded ``item_text`` (queries land in the same space)."""
        return self._get(self.text_name, {"device": self.device})

    def clip_image(self) -> SerialEncoder:
        return self._get("clip", self._clip_config())

    def clip_text(self) -> SerialEncoder:
        return self._get("clip-text", self._clip_config())

    @property
    def has_clip(self) -> bool:
        return bool(self.clip_checkpoint)

    def _clip_config(self) -> dict[str, Any]:
        if not self.clip_checkpoint:
            raise EncoderUnavailable(NO_CLIP)
        return {"checkpoint": self.clip_checkpoint, "device": self.device}

    def _get(self, name: str, config: dict[str, Any]) -> SerialEncoder:
        with self._lock:  # one load even when the first requests arrive together
            if name not in self._cache:
                try:
                    self._cache[name] = SerialEncoder(create_encoder(name, **config))
                # ImportError: CLIP's optional extra (open-clip-torch) is not installed
                except (ImportError, KeyError, TypeError, ValueError, OSError) as exc:
                    raise EncoderUnavailable(f"encoder {name!r} unavailable: {exc}") from exc
            return self._cache[name]

    def embed_text(self, texts: list[str]):
        return self.text().encode(texts)
