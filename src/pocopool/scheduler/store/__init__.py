"""The scheduler's persistence: schema (tables.py, opened and migrated by pocopool.service.database),
the values and row converters the queries share (records.py), the queries by concept (tasks.py,
replicates.py, workers.py, notifications.py, views.py, cursors.py), and `Store` (repository.py),
which owns the transactions and delegates to them."""

from .records import NewReplicateUpdate, NewTask, NotificationRow, TaskDetails, to_datetime
from .replicates import ReplicateWriter, StaleReplicate
from .repository import Store
from .tasks import InvalidTaskTransition

__all__ = [
    "InvalidTaskTransition",
    "NewReplicateUpdate",
    "NewTask",
    "NotificationRow",
    "ReplicateWriter",
    "StaleReplicate",
    "Store",
    "TaskDetails",
    "to_datetime",
]
