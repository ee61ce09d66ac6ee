"""`python -m pocopool.worker --scheduler URL --chain local:PATH --key-file F --workdir DIR …`

SIGTERM or SIGINT stops the worker cleanly: running apps are killed, task state stays on disk and is
resumed by the next start. Exit status 0 after a clean stop, 1 on a startup failure, 2 on bad usage.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence

from ..protocol.time import SystemClock
from . import logs
from .agent import Worker
from .config import parse
from .tee.platform import EnclavePlatform, UnknownPlatform, load_platform

# The enclave platforms a --tee worker can name; the worker imports none of them (decision 102).
PLATFORMS = {"tee-sim": "pocopool.teesim.platform:TeeSim"}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config, chain_url, level = parse(argv)
    except (OSError, ValueError) as error:
        print(f"pocopool worker: {error}", file=sys.stderr)
        return 2
    platform: EnclavePlatform | None = None
    if config.tee:
        try:
            platform = load_platform(config.tee_platform, PLATFORMS)
        except UnknownPlatform as error:
            print(f"pocopool worker: {error}", file=sys.stderr)
            return 2
    logs.configure(level)
    log = logs.get_logger("main")
    from ..chain import connect  # imported here so that `--help` works without a ledger backend
    from ..chain.base import ChainError

    clock = SystemClock()
    try:
        chain = connect(chain_url, clock)
    except (OSError, ValueError, ChainError) as error:
        log.error("chain-unavailable", chain=chain_url, error=str(error))
        return 1
    worker = Worker(config, chain, clock, tee_platform=platform)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        await worker.run()

    try:
        asyncio.run(run())
    except BaseExceptionGroup as group:  # noqa: F821 - builtin since 3.11
        for leaf in _leaves(group):
            log.error("worker-failed", error=f"{type(leaf).__name__}: {leaf}")
        return 1
    except Exception as error:  # noqa: BLE001 - one clear line instead of a traceback
        log.error("worker-failed", error=f"{type(error).__name__}: {error}")
        return 1
    finally:
        chain.close()
    return 0


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:  # noqa: F821
    found: list[BaseException] = []
    for error in group.exceptions:
        found += _leaves(error) if isinstance(error, BaseExceptionGroup) else [error]  # noqa: F821
    return found


if __name__ == "__main__":
    sys.exit(main())
