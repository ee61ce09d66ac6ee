"""Categories, deadlines and the one injectable clock (spec/poco.md §11, DESIGN §5).

Chain times are whole seconds (block timestamps). Off-chain code may use fractional seconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

CONTRIBUTION_DEADLINE_RATIO = 7
REVEAL_DEADLINE_RATIO = 2
FINAL_DEADLINE_RATIO = 10


@dataclass(frozen=True)
class Category:
    """A work category: its time reference bounds the app run and sets every deadline."""

    id: int
    name: str
    description: str
    work_clock_time_ref: int  # seconds


STANDARD_CATEGORIES: tuple[tuple[str, int], ...] = (
    ("XS", 300),
    ("S", 1200),
    ("M", 3600),
    ("L", 10800),
    ("XL", 36000),
)


@dataclass(frozen=True)
class Deadlines:
    contribution: int
    final: int


def task_deadlines(deal_start_time: int, time_ref: int) -> Deadlines:
    """Deadlines measured from the deal's start, not the task's initialization (poco.md §11.2)."""
    return Deadlines(
        contribution=deal_start_time + CONTRIBUTION_DEADLINE_RATIO * time_ref,
        final=deal_start_time + FINAL_DEADLINE_RATIO * time_ref,
    )


def reveal_deadline(consensus_time: int, time_ref: int) -> int:
    return consensus_time + REVEAL_DEADLINE_RATIO * time_ref


def parse_time(value: Any) -> float | None:
    """An ISO date (with Z or an offset), a datetime or epoch seconds, as epoch seconds; None for
    nothing or an unreadable date. A date without an offset is read as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(seconds: float) -> str:
    """Epoch seconds as an ISO 8601 UTC date to the second: `2026-01-01T00:00:00Z`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock(Protocol):
    """Seconds since the epoch. Every component takes one, so tests can run on virtual time."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualClock:
    """A clock that only moves when told to. `sleep` returns once `advance` passes its end."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
            due = [w for w in self._waiters if w[0] <= self._now]
            self._waiters = [w for w in self._waiters if w[0] > self._now]
        for _, future in due:
            if not future.done():
                future.get_loop().call_soon_threadsafe(future.set_result, None)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiters.append((self._now + seconds, future))
        await future
