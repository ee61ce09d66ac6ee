"""The scheduler's persistence: schema (tables.py), engine and migrations (db.py), queries (repository.py)."""

from .db import StoreConfigError, migrate
from .repository import (
    InvalidTaskTransition,
    NewReplicateUpdate,
    NewTask,
    NotificationRow,
    Store,
    TaskDetails,
    to_datetime,
)

__all__ = [
    "InvalidTaskTransition", "NewReplicateUpdate", "NewTask", "NotificationRow", "Store", "StoreConfigError",
    "TaskDetails", "migrate", "to_datetime",
]
