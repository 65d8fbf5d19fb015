"""Interaction events: shape the next recommendations at once and feed the next training."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter

from serving.deps import ApiKeyDep, EngineDep, StateDep
from serving.schemas import EventsRequest, EventsResponse, RejectedEvent, errors

router = APIRouter(tags=["events"])

# how far ahead of this server's clock a client's event time may be (clients' clocks drift)
CLOCK_SKEW = timedelta(minutes=5)


@router.post("/events", response_model=EventsResponse, responses=errors(400, 401, 403, 413, 503))
def post_events(
    body: EventsRequest, _: ApiKeyDep, engine: EngineDep, state: StateDep
) -> EventsResponse:
    """Append events (API key required). Unknown items are rejected one by one, the rest kept."""
    rows, rejected = [], []
    now = datetime.now(UTC)
    for i, event in enumerate(body.events):
        if engine.snap.items.vocab.index([event.item_id])[0] < 0:
            rejected.append(
                RejectedEvent(index=i, error=f"item {event.item_id} is not in the catalog")
            )
            continue
        if event.kind == "rating" and event.rating is None:
            rejected.append(RejectedEvent(index=i, error="kind 'rating' needs a rating (1-5)"))
            continue
        stamp = event.timestamp or now
        if stamp.tzinfo is None:  # a naive time is taken as UTC, as the event log stores it
            stamp = stamp.replace(tzinfo=UTC)
        if stamp > now + CLOCK_SKEW:
            # a far-future event would sort after every real one and outlive retention
            rejected.append(
                RejectedEvent(index=i, error=f"timestamp {stamp.isoformat()} is in the future")
            )
            continue
        row = event.model_dump()
        row["timestamp"] = stamp
        rows.append(row)
    path = state.events.append(rows) if rows else state.events.path_for(now)
    for row in rows:  # persisted first, then visible: a crash never shows unsaved events
        state.sessions.add(row["user_id"], row["item_id"], row["rating"], row["watch_fraction"])
    state.metrics.events.labels(result="accepted").inc(len(rows))
    state.metrics.events.labels(result="rejected").inc(len(rejected))
    return EventsResponse(
        accepted=len(rows), rejected=rejected, path=str(path.relative_to(state.ws.root))
    )
