"""The scheduler's persistence: schema (tables.py), engine and migrations (db.py), queries (repository.py)."""

from .db import Database, StoreConfigError, open_database
from .repository import (
    InvalidTaskTransition,
    NewReplicateUpdate,
    NewTask,
    NotificationRow,
    ReplicateWriter,
    StaleReplicate,
    Store,
    TaskDetails,
    to_datetime,
)

__all__ = [
    "InvalidTaskTransition", "NewReplicateUpdate", "NewTask", "NotificationRow", "ReplicateWriter", "StaleReplicate", "Store", "StoreConfigError",
    "TaskDetails", "Database", "open_database", "to_datetime",
]
