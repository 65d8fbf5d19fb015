"""Typed configuration of ``recsys embed`` (read from ``<workspace>/embed.json`` if present)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from features.fusion.base import FusionConfig
from recsys.core.workspace import Workspace

CONFIG_FILE = "embed.json"

# Job modality -> (entity, table modality). "ratings" also writes user_ratings.
JOB_MODALITIES: dict[str, tuple[str, str]] = {
    "text": ("item", "text"),
    "image": ("item", "image"),
    "video": ("item", "video"),
    "ratings": ("item", "ratings"),
    "review_text": ("item", "review_text"),
    "history_text": ("user", "history_text"),
}
ALIASES = {"reviews": "review_text", "review": "review_text", "history": "history_text"}


class EncodersConfig(BaseModel):
    """Registry name of the encoder per job modality."""

    model_config = ConfigDict(extra="forbid")

    text: str = "minilm"
    image: str = "efficientnet-lite0"
    video: str = "video"
    review_text: str = "minilm"
    history_text: str = "minilm"


class EmbedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    encoders: EncodersConfig = Field(default_factory=EncodersConfig)
    encoder_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    batch_size: int = Field(default=64, gt=0)
    chunk_size: int = Field(default=512, gt=0)  # rows per commit: the most a kill -9 can lose
    ray_actors: int = Field(default=1, gt=0)  # --engine ray: encoder actors (a model copy each)
    # Local engine: processes decoding media ahead of the model; None = ``default_workers``
    # (by device and free cores), 0 = decode in the job's process.
    prepare_workers: int | None = Field(default=None, ge=0)
    history_items: int = Field(default=20, gt=0)
    max_reviews: int = Field(default=20, gt=0)
    fusion: FusionConfig = Field(default_factory=FusionConfig)
    fuse: bool = True

    @classmethod
    def load(cls, ws: Workspace) -> EmbedConfig:
        path = ws.root / CONFIG_FILE
        if not path.exists():
            return cls()
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except ValueError as exc:
            raise ValueError(f"invalid embed config {path}: {exc}") from exc


def normalise_modalities(modalities: list[str] | None) -> list[str]:
    """Validate job modality names (None = all), keeping the canonical order."""
    if not modalities:
        return list(JOB_MODALITIES)
    chosen = {ALIASES.get(m.strip(), m.strip()) for m in modalities if m.strip()}
    unknown = sorted(chosen - set(JOB_MODALITIES))
    if unknown:
        raise ValueError(f"unknown modalities {unknown}; choose from {sorted(JOB_MODALITIES)}")
    return [m for m in JOB_MODALITIES if m in chosen]
