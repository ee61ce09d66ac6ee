"""Notifications to workers: the engine's notifications rendered as stored rows.

A notification is a row of the notifications table, one per addressed worker, written in the same
transaction as the change that causes it; once it is committed, the updater wakes the long-polls
of those wallets (`Wakeups.notify(wallets_of(rows))`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..protocol.crypto import sign_personal, upload_authorization_hash
from ..protocol.models import TaskNotificationExtra
from ..protocol.statuses import TaskNotificationType as Next
from .engine import Notification
from .store import NotificationRow


def upload_authorization(private_key: str, worker: str, task_id: str) -> str:
    """The scheduler's EIP-191 signature that lets `worker` upload the result of `task_id`."""
    return sign_personal(private_key, upload_authorization_hash(worker, task_id))


def render_notifications(
    notifications: Sequence[Notification], task_id: str, private_key: str
) -> list[NotificationRow]:
    rows: list[NotificationRow] = []
    for notification in notifications:
        for wallet in notification.wallets:
            extra = TaskNotificationExtra(
                blockNumber=notification.block_number,
                taskAbortCause=notification.abort_cause,
                resultUploadAuthorization=(
                    upload_authorization(private_key, wallet, task_id)
                    if notification.type is Next.PLEASE_UPLOAD
                    else None
                ),
            )
            rows.append(NotificationRow(wallet, task_id, notification.type.value, extra.wire()))
    return rows


def wallets_of(rows: Sequence[NotificationRow]) -> list[str]:
    return [row.wallet for row in rows]
