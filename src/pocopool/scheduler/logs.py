"""The scheduler's structured log lines (format of `pocopool.logs`): one event name and key=value
fields, always with the task id and wallet when they are known."""

from __future__ import annotations

import logging
from typing import Any

from ..logs import configure, get_logger

__all__ = ["configure_logging", "log_event"]

_log = get_logger("pocopool.scheduler")


def log_event(event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Logs `event key=value ...`; None fields are left out."""
    _log.log(level, event, **fields)


def configure_logging(level: str | int = logging.INFO) -> None:
    """One line per event on stderr (used by `python -m pocopool.scheduler`)."""
    configure(level)
