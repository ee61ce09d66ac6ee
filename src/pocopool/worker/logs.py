"""Structured worker logs: one line per event, always carrying the wallet and, when known, the task.

Lines read `2025-01-01T00:00:00.000Z INFO worker.<area> <event> wallet=0x… task=0x… key=value …`
so that `grep task=0x…` gives one replicate's story and the scheduler's debug view can be matched
with the worker's side.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def _render(value: Any) -> str:
    text = str(value)
    if text == "" or any(char.isspace() or char in '"=' for char in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    """`<utc time> <LEVEL> <logger> <event> k=v …`; the fields come from the record's extras."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
        fields = {k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")}
        parts = [f"{stamp}.{int(record.msecs):03d}Z", record.levelname, record.name, record.getMessage()]
        parts += [f"{key}={_render(value)}" for key, value in fields.items() if value is not None]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class EventLogger(logging.LoggerAdapter):
    """A logger bound to fields (wallet, task …) that every line carries.

    `log.info("status-sent", status="STARTED")` → `… status-sent wallet=… task=… status=STARTED`.
    """

    def __init__(self, logger: logging.Logger, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(logger, dict(fields or {}))

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = dict(self.extra)
        known = {"exc_info", "stack_info", "stacklevel", "extra"}
        for key in list(kwargs):
            if key not in known:
                extra[key] = kwargs.pop(key)
        extra.update(kwargs.pop("extra", None) or {})
        # Field names that clash with LogRecord attributes would make logging raise.
        kwargs["extra"] = {(f"{k}_" if k in _RESERVED else k): v for k, v in extra.items()}
        return msg, kwargs

    def bind(self, **fields: Any) -> EventLogger:
        return EventLogger(self.logger, {**self.extra, **fields})

    def child(self, area: str) -> EventLogger:
        return EventLogger(logging.getLogger(f"{self.logger.name}.{area}"), self.extra)


def get_logger(area: str = "", **fields: Any) -> EventLogger:
    name = "pocopool.worker" + (f".{area}" if area else "")
    return EventLogger(logging.getLogger(name), fields)


def configure(level: str = "INFO") -> None:
    """Log to stderr, one structured line per event (used by `python -m pocopool.worker`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
