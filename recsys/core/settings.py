"""Process settings, read from ``RECSYS_*`` environment variables once, at an entry point.

The CLI and the server build one ``Settings`` and pass what each part needs down as plain
arguments (a ``Workspace``, a device string); nothing below an entry point reads the
environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from recsys.core.workspace import Workspace


class Settings(BaseSettings):
    """Where the data lives and which device computes.

    Attributes:
        workspace: Workspace root holding data/, lancedb/, artifacts/ and events/.
        lancedb_uri: Feature store URI (default ``<workspace>/lancedb``; ``s3://…`` works).
        device: Torch device (default: CUDA when available, else CPU).
    """

    model_config = SettingsConfigDict(env_prefix="RECSYS_", extra="ignore")

    workspace: Path = Path("workspace")
    lancedb_uri: str | None = None
    device: str | None = None

    def open_workspace(self) -> Workspace:
        return Workspace.at(self.workspace, self.lancedb_uri)


def offline_hub() -> None:
    """Never reach the model hub at run time: every encoder ships its weights locally.

    Called once by each entry point (CLI, server, benchmarks) before any encoder loads.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
