"""Structured log lines: one event name and key=value fields, always with the task id and wallet
when they are known, so `grep task=0x…` follows one task through every process."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("pocopool.scheduler")


def _render(value: Any) -> str:
    text = str(value.value if hasattr(value, "value") else value)
    return f'"{text}"' if (" " in text or not text) else text


def log_event(event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Logs `event key=value ...`; None fields are left out."""
    if not logger.isEnabledFor(level):
        return
    parts = [event] + [f"{key}={_render(value)}" for key, value in fields.items() if value is not None]
    logger.log(level, " ".join(parts), extra={"event": event, "fields": fields})


def configure_logging(level: int = logging.INFO) -> None:
    """One line per event on stderr (used by `python -m pocopool.scheduler`)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("pocopool")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
