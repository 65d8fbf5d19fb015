"""Typed configuration of the HTTP service, read from ``RECSYS_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from recsys.core.settings import Settings as CoreSettings


class Settings(CoreSettings):
    """What the service needs beyond the workspace and device; one instance per app.

    Attributes:
        api_key: Secret for ``POST /events`` and ``POST /admin/reload``; unset = both refused.
        media_roots: Extra directories media may be served from (the workspace and the
            catalog's media root are always allowed; nothing else ever is).
        max_body_bytes: Requests with a larger body get 413 before they are read.
        clip_checkpoint: CLIP checkpoint (open_clip name or local file) for image search and
            text-to-poster search; unset = image upload answers 501.
        reload_poll_seconds: How often ``artifacts/current`` is checked for a new target
            (0 disables automatic hot reload; ``POST /admin/reload`` still works).
        text_encoder: Registry name of the text encoder that embedded ``item_text``.
        demo_users: How many users the web page offers in its dropdown.
    """

    # unknown fields are refused here (a typo in a test or a deployment must not pass silently)
    model_config = SettingsConfigDict(env_prefix="RECSYS_", extra="forbid")

    api_key: str | None = None
    media_roots: list[Path] = Field(default_factory=list)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    clip_checkpoint: str | None = None
    reload_poll_seconds: float = Field(default=2.0, ge=0)
    text_encoder: str = "minilm"
    demo_users: int = Field(default=12, ge=1, le=200)
