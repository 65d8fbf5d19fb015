"""Batch embedding jobs: ``run_embed`` (local or Ray Data), incremental and resumable."""

from features.jobs.config import EmbedConfig, EncodersConfig

__all__ = ["EmbedConfig", "EncodersConfig"]
