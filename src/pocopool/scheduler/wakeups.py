"""The one wake-up primitive of the scheduler: coroutines wait for news of a key, writers announce it.

Used twice: the long-polls of `GET /workers/notifications` wait on the worker's wallet (notifications), the
event streams of `GET /events` wait on `ANY` (status writes). A waiter takes a ticket *before* it
reads the database, so news committed after the read always wakes it; waiters also re-read the
database on a timeout, so a write of another process is never missed. Owned by the scheduler and
closed at shutdown, which releases every waiter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

ANY = "*"  # the key of waiters that want every news (event streams)


class Wakeups:
    """Per-key wake-ups; keys are compared case-insensitively (wallets)."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def ticket(self, key: str = ANY) -> asyncio.Event:
        """Take it *before* reading the database: news of `key` announced afterwards sets it
        (already set once closed)."""
        if self._closed:
            done = asyncio.Event()
            done.set()
            return done
        key = key.lower()
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = asyncio.Event()
        return event

    def notify(self, keys: Iterable[str] = (ANY,)) -> None:
        """Wakes every waiter of these keys (call after the commit)."""
        for key in {k.lower() for k in keys}:
            event = self._events.pop(key, None)
            if event is not None:
                event.set()

    async def wait(self, ticket: asyncio.Event, timeout: float) -> bool:
        """True once the ticket is set (news, or shutdown); False after `timeout` seconds."""
        try:
            await asyncio.wait_for(ticket.wait(), timeout)
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        """Releases every waiter, now and later (shutdown)."""
        self._closed = True
        events, self._events = self._events, {}
        for event in events.values():
            event.set()
