"""Per-user items from live events, in memory, bounded: what the next request ranks with."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from recsys.core.interactions import is_like

MAX_SESSION_USERS = 100_000  # users with live events kept in memory (least recent dropped)
MAX_SESSION_ITEMS = 500  # newest items kept per user


@dataclass
class _Session:
    # dicts as ordered sets: a repeated item moves to the newest end instead of doubling
    liked: dict[int, None] = field(default_factory=dict)
    seen: dict[int, None] = field(default_factory=dict)


class SessionStore:
    """Per-user items from live events; survives engine hot swaps; bounded in users and items."""

    def __init__(self, max_users: int = MAX_SESSION_USERS, max_items: int = MAX_SESSION_ITEMS):
        self.max_users = max_users
        self.max_items = max_items
        self._users: OrderedDict[int, _Session] = OrderedDict()  # least recently active first
        self._lock = threading.Lock()

    def add(
        self, user_id: int, item_id: int, rating: float | None, watch_fraction: float | None
    ) -> None:
        """Record one accepted event: always seen; liked by the training rule (``is_like``)."""
        with self._lock:
            session = self._users.get(user_id)
            if session is None:
                session = self._users[user_id] = _Session()
                if len(self._users) > self.max_users:
                    self._users.popitem(last=False)
            else:
                self._users.move_to_end(user_id)
            _push(session.seen, item_id, self.max_items)
            if is_like(rating, watch_fraction):  # an abandoned unrated view is not a like
                _push(session.liked, item_id, self.max_items)

    def liked(self, user_id: int) -> list[int]:
        with self._lock:
            session = self._users.get(user_id)
            return list(session.liked) if session else []

    def seen(self, user_id: int) -> list[int]:
        with self._lock:
            session = self._users.get(user_id)
            return list(session.seen) if session else []

    def __len__(self) -> int:
        return len(self._users)


def _push(items: dict[int, None], item_id: int, cap: int) -> None:
    items.pop(item_id, None)
    items[item_id] = None
    if len(items) > cap:
        del items[next(iter(items))]
