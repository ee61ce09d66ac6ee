"""Pauses between retries: exponential, capped, jittered — never a tight loop."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..protocol.time import Clock


@dataclass
class Backoff:
    """`await backoff.wait(clock)` sleeps 0.5 s, 1 s, 2 s … up to `maximum`, each ±`jitter`."""

    initial: float = 0.5
    maximum: float = 10.0
    factor: float = 2.0
    jitter: float = 0.2
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        base = self._next or self.initial
        self._next = min(base * self.factor, self.maximum)
        return base * (1 + random.uniform(-self.jitter, self.jitter))

    def reset(self) -> None:
        self._next = 0.0

    async def wait(self, clock: Clock, limit: float | None = None) -> None:
        """Sleep the next delay, but never past `limit` seconds (e.g. the time left to a deadline)."""
        delay = self.delay()
        if limit is not None:
            delay = max(0.0, min(delay, limit))
        await clock.sleep(delay)
