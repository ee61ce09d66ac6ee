"""Pushes to workers: rendering the engine's pushes as stored rows, and waking long-polls.

A push is a row of the notifications table, one per addressed worker, written in the same
transaction as the change that causes it. `NotificationHub` wakes the long-polls of
`GET /workers/notifications` of a wallet once the transaction is committed; polls also re-read the
database every so often, so a row written by another process is never missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from ..protocol.crypto import sign_personal, upload_authorization_hash
from ..protocol.models import TaskNotificationExtra
from ..protocol.statuses import TaskNotificationType as Next
from .engine import Push
from .store import NotificationRow


def upload_authorization(private_key: str, worker: str, task_id: str) -> str:
    """The scheduler's EIP-191 signature that lets `worker` upload the result of `task_id`."""
    return sign_personal(private_key, upload_authorization_hash(worker, task_id))


def render_pushes(pushes: Sequence[Push], task_id: str, private_key: str) -> list[NotificationRow]:
    rows: list[NotificationRow] = []
    for push in pushes:
        for wallet in push.wallets:
            extra = TaskNotificationExtra(
                blockNumber=push.block_number,
                taskAbortCause=push.abort_cause,
                resultUploadAuthorization=(
                    upload_authorization(private_key, wallet, task_id) if push.type is Next.PLEASE_UPLOAD else None
                ),
            )
            rows.append(NotificationRow(wallet, task_id, push.type.value, extra.wire()))
    return rows


class NotificationHub:
    """Per-wallet wake-ups for long-polls. Owned by the scheduler; closed at shutdown."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _event(self, wallet: str) -> asyncio.Event:
        key = wallet.lower()
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = asyncio.Event()
        return event

    def notify(self, wallets: Iterable[str]) -> None:
        """Wakes every poll waiting for these wallets (call after the commit)."""
        for wallet in {w.lower() for w in wallets}:
            event = self._events.pop(wallet, None)
            if event is not None:
                event.set()

    def ticket(self, wallet: str) -> asyncio.Event:
        """Take a ticket *before* reading the database: a push committed after that sets it."""
        if self._closed:
            event = asyncio.Event()
            event.set()
            return event
        return self._event(wallet)

    async def wait(self, ticket: asyncio.Event, timeout: float) -> bool:
        """Waits until the ticket is set (a push was announced, or shutdown) or `timeout` passes."""
        try:
            await asyncio.wait_for(ticket.wait(), timeout)
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        """Releases every waiting poll (shutdown)."""
        self._closed = True
        events, self._events = self._events, {}
        for event in events.values():
            event.set()


def wallets_of(rows: Sequence[NotificationRow]) -> list[str]:
    return [row.wallet for row in rows]
