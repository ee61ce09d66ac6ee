"""Chain reads from an event loop (scheduler, worker).

A read of a ledger whose reads never wait (LocalChain: one SQLite statement on a WAL file, a few
microseconds) runs inline: handing it to a thread and back cost more than the read itself (the
throughput profile in bench/RESULTS.md). Any other ledger (an EVM node over HTTP) is read in a
thread, so that the loop never waits on the network. Transactions always go to a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def chain_read(chain: Any, method: Callable[..., T], *args: Any) -> T:
    """`method(*args)`, a read of `chain`: inline when its reads never wait, else in a thread."""
    if getattr(chain, "reads_never_wait", False):
        return method(*args)
    return await asyncio.to_thread(method, *args)
