"""The worker's loggers: `pocopool.worker.<area>`, in the structured format of `pocopool.logs`.

Every line carries the wallet and, when known, the task, so that one replicate's story is one grep.
"""

from __future__ import annotations

from typing import Any

from .. import logs
from ..logs import EventLogger, configure

__all__ = ["EventLogger", "configure", "get_logger"]


def get_logger(area: str = "", **fields: Any) -> EventLogger:
    """The logger of one part of the worker (`"agent"`, `"runtime"` …), bound to `fields`."""
    return logs.get_logger("pocopool.worker" + (f".{area}" if area else ""), **fields)
