"""Online encoders shared by every engine snapshot (loading a model once per process)."""

from __future__ import annotations

import threading
from typing import Any

from features.encoders import create_encoder  # the package import registers the built-ins


class EncoderUnavailable(RuntimeError):
    """The encoder a request needs is not configured or cannot be loaded (message says why)."""


class EncoderPool:
    """Lazily creates the text encoder and, when a checkpoint is configured, CLIP."""

    def __init__(
        self, text_encoder: str = "minilm", clip_checkpoint: str | None = None, device=None
    ):
        self.text_name = text_encoder
        self.clip_checkpoint = clip_checkpoint
        self.device = device
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def text(self):
        """The encoder that embedded ``item_text`` (queries land in the same space)."""
        return self._get(self.text_name, {"device": self.device})

    def clip_image(self):
        return self._get("clip", self._clip_config())

    def clip_text(self):
        return self._get("clip-text", self._clip_config())

    @property
    def has_clip(self) -> bool:
        return bool(self.clip_checkpoint)

    def _clip_config(self) -> dict[str, Any]:
        if not self.clip_checkpoint:
            raise EncoderUnavailable(
                "no CLIP checkpoint configured: set RECSYS_CLIP_CHECKPOINT to enable image search"
            )
        return {"checkpoint": self.clip_checkpoint, "device": self.device}

    def _get(self, name: str, config: dict[str, Any]):
        with self._lock:  # one load even when the first requests arrive together
            if name not in self._cache:
                try:
                    self._cache[name] = create_encoder(name, **config)
                # ImportError: CLIP's optional extra (open-clip-torch) is not installed
                except (ImportError, KeyError, TypeError, ValueError, OSError) as exc:
                    raise EncoderUnavailable(f"encoder {name!r} unavailable: {exc}") from exc
            return self._cache[name]

    def embed_text(self, texts: list[str]):
        return self.text().encode(texts)
