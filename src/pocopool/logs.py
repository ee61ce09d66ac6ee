"""Structured log lines for every pocopool process: the scheduler, the worker and the result store.

Lines read `2025-01-01T00:00:00.000Z INFO pocopool.<process>.<area> <event> task=0x… wallet=0x… key=value …`
so that `grep task=0x…` follows one task through every process. The record's message is the event
name alone; its fields travel as the record's extras (tests and handlers can read them).

This module sits at the package root and imports nothing of pocopool, so that scheduler, worker and
results (which must not import each other) share one implementation.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from enum import Enum
from typing import Any

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def _render(value: Any) -> str:
    text = str(value.value if isinstance(value, Enum) else value)
    if text == "" or any(char.isspace() or char in '"=' for char in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def _field_name(key: str) -> str:
    """A field renamed by EventLogger to dodge a LogRecord attribute gets its own name back."""
    return key[:-1] if key.endswith("_") and key[:-1] in _RESERVED else key


class KeyValueFormatter(logging.Formatter):
    """`<utc time> <LEVEL> <logger> <event> k=v …`; the fields come from the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        fields = {k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")}
        parts = [f"{stamp}.{int(record.msecs):03d}Z", record.levelname, record.name, record.getMessage()]
        parts += [f"{_field_name(key)}={_render(value)}" for key, value in fields.items() if value is not None]
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
        extra = dict(self.extra or {})
        known = {"exc_info", "stack_info", "stacklevel", "extra"}
        for key in list(kwargs):
            if key not in known:
                extra[key] = kwargs.pop(key)
        extra.update(kwargs.pop("extra", None) or {})
        # Field names that clash with LogRecord attributes would make logging raise.
        kwargs["extra"] = {(f"{k}_" if k in _RESERVED else k): v for k, v in extra.items()}
        return msg, kwargs

    def bind(self, **fields: Any) -> EventLogger:
        return EventLogger(self.logger, {**(self.extra or {}), **fields})

    def child(self, area: str) -> EventLogger:
        return EventLogger(logging.getLogger(f"{self.logger.name}.{area}"), self.extra)


def get_logger(name: str, **fields: Any) -> EventLogger:
    """The event logger of the `logging` logger `name` (e.g. "pocopool.scheduler"), bound to `fields`."""
    return EventLogger(logging.getLogger(name), fields)


def configure(level: str | int = "INFO") -> None:
    """Log to stderr, one structured line per event (used by each process's `__main__`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(f, _AlembicPreamble) for f in migration.filters):
        migration.addFilter(_AlembicPreamble())


class _AlembicPreamble(logging.Filter):
    """Drops the two lines Alembic logs at every start ("Context impl …", "Will assume …"): they say
    nothing, and a start refused for a damaged database is then one line. "Running upgrade" stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Context impl", "Will assume"))
