"""Users the web page can offer, and a user's viewing history.

Both reveal who uses the service and what they watched: API key required unless the
``public_user_pages`` setting opens them (the local demo does).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from serving.deps import EngineDep, SettingsDep, StateDep, UserPagesDep
from serving.schemas import (
    HistoryItem,
    HistoryResponse,
    UserId,
    UsersResponse,
    UserSummary,
    errors,
)

router = APIRouter(tags=["users"])

_PRIVATE = (401, "No API key (these pages are private unless RECSYS_PUBLIC_USER_PAGES is set).")


@router.get("/users", response_model=UsersResponse, responses=errors(_PRIVATE, 403, 503))
def demo_users(_: UserPagesDep, engine: EngineDep, settings: SettingsDep) -> UsersResponse:
    """A few users with a usable history (longest first, 5-40 liked items) for the demo page."""
    return UsersResponse(
        users=[UserSummary(user_id=u, n_liked=n) for u, n in engine.demo_users(settings.demo_users)]
    )


@router.get(
    "/users/{user_id}/history",
    response_model=HistoryResponse,
    responses=errors(_PRIVATE, 403, 503),
)
def user_history(
    user_id: Annotated[UserId, Path()], _: UserPagesDep, engine: EngineDep, state: StateDep
) -> HistoryResponse:
    """Liked items (catalog history then live events), newest first, and every item seen."""
    ids = engine.user_history(user_id) + state.sessions.liked(user_id)
    items = []
    for item_id in dict.fromkeys(reversed(ids)):  # newest first, each once
        idx = int(engine.snap.items.vocab.index([item_id])[0])
        if idx >= 0:
            items.append(
                HistoryItem(
                    item_id=item_id, title=engine.title(idx), poster_url=engine.poster_url(idx)
                )
            )
    seen = list(dict.fromkeys(engine.user_seen(user_id) + state.sessions.seen(user_id)))
    return HistoryResponse(
        user_id=user_id, known=engine.known_user(user_id), items=items, seen=seen
    )
