"""Typed configuration of the HTTP service, read from ``RECSYS_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from recsys.core.settings import Settings as CoreSettings


class Settings(CoreSettings):
    """What the service needs beyond the workspace and device; one instance per app.

    Attributes:
        api_key: Secret for ``POST /events``, ``POST /admin/reload`` and (unless
            ``public_user_pages``) the user pages; unset = all of them refused.
        media_roots: Extra directories media may be served from (the workspace and the
            catalog's media root are always allowed; nothing else ever is).
        max_body_bytes: Requests with a larger body get 413 before they are read.
        clip_checkpoint: CLIP checkpoint (open_clip name or local file) for image search and
            text-to-poster search; unset = image upload answers 501.
        reload_poll_seconds: How often ``artifacts/current`` is checked for a new target
            (0 disables automatic hot reload; ``POST /admin/reload`` still works).
        text_encoder: Registry name of the text encoder that embedded ``item_text``.
        demo_users: How many users the web page offers in its dropdown.
        public_user_pages: Serve ``/users`` and ``/users/{id}/history`` without the API key
            (the demo page lists users and shows their histories); off by default, because
            otherwise any client could enumerate users and read what each one watched.
        event_retention_days: Days of the live event log kept (older daily files deleted);
            None keeps every file. Events older than the served run are in its training data.
        session_max_users / session_max_items: Bounds of the in-memory live sessions (least
            recently active users dropped first; each user's newest items kept).
        heavy_workers / heavy_max_waiting: Threads of the pool for CPU-heavy requests (text
            and image encoders; default half the cores, at most 4) and how many such requests
            may queue before the next gets 503 + Retry-After (``serving/heavy.py`` says why).
        rank_threads: Threads ranking recommendation requests at once (default: one per
            core); more requests wait their turn without a thread (``serving/lanes.py``).
        response_cache_mb: Megabytes of recommendation answers each worker keeps, so a
            repeated request is not ranked again (``serving/response_cache.py`` says when an
            answer is dropped); 0 ranks every request.
        shutdown_grace_seconds: On SIGTERM, how long in-flight requests may take to finish;
            below the orchestrator's kill deadline (docker/compose.yaml stop_grace_period).
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
    public_user_pages: bool = False
    event_retention_days: int | None = Field(default=90, ge=1)
    session_max_users: int = Field(default=100_000, ge=1)
    session_max_items: int = Field(default=500, ge=1)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    heavy_workers: int | None = Field(default=None, ge=1)
    heavy_max_waiting: int = Field(default=8, ge=0)
    rank_threads: int | None = Field(default=None, ge=1)
    response_cache_mb: int = Field(default=64, ge=0)
