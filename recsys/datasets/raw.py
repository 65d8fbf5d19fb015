"""A dataset as read from its source, before validation into canonical tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl


@dataclass
class RawDataset:
    """Frames with canonical column names (types not yet checked) and the media root."""

    items: pl.DataFrame
    users: pl.DataFrame
    interactions: pl.DataFrame
    media_root: Path | None
    name: str
    source_files: dict[str, str]  # table -> file it came from, for error messages
