"""The scheduler's persistence: schema (tables.py), engine, transactions and migrations (db.py), the
values and row converters the queries share (records.py), the queries by concept (tasks.py,
replicates.py, workers.py, notifications.py, views.py, cursors.py), and `Store` (repository.py),
which owns the transactions and delegates to them."""

from .db import Database, StoreConfigError, open_database
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
    "StoreConfigError",
    "TaskDetails",
    "Database",
    "open_database",
    "to_datetime",
]
