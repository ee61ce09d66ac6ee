"""The notification cursor: the id of the last push this worker handled, kept in the work directory.

Pushes (PLEASE_REVEAL, PLEASE_UPLOAD, PLEASE_COMPLETE, PLEASE_ABORT) are read with
`GET /workers/notifications?after=<cursor>`; the cursor is written after a batch has been handed to
the replicates, so a restart neither misses a push nor replays more than the last batch (and a
replayed push finds its work already done in state.json).
"""

from __future__ import annotations

from pathlib import Path

from ..protocol.crypto import same_address
from ..protocol.models import TaskNotification
from .workspace import atomic_write


class NotificationCursor:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.value = self._read()

    def _read(self) -> int:
        try:
            return max(0, int(self.path.read_text().strip() or 0))
        except (OSError, ValueError):
            return 0

    def advance(self, value: int) -> None:
        if value > self.value:
            self.value = value
            atomic_write(self.path, f"{value}\n".encode())


def addressed_to(notification: TaskNotification, wallet: str) -> bool:
    """An empty list means every worker of the task (spec/worker.md §4)."""
    return not notification.workersAddress or any(same_address(a, wallet) for a in notification.workersAddress)
