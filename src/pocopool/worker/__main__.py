"""`python -m pocopool.worker --scheduler URL --chain local:PATH --key-file F --workdir DIR …`

SIGTERM or SIGINT stops the worker cleanly: running apps are killed, task state stays on disk and is
resumed by the next start. Exit status 0 after a clean stop; 2 when it does not start (bad usage, an
unreadable key file, a chain that cannot be opened, a wallet that cannot pay one transaction's gas: one
line on stderr, service/startup.py); 1 when it fails while running.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence

from ..protocol.keys import Wallet
from ..protocol.time import SystemClock
from ..service.startup import EXIT_FAILED, StartupError, run_main, starting
from . import logs
from .agent import Worker
from .config import parse
from .gas import startup_check
from .identity import exception_leaves
from .tee.platform import EnclavePlatform, UnknownPlatform, load_platform

# The enclave platforms a --tee worker can name; the worker imports none of them (decision 102).
PLATFORMS = {"tee-sim": "pocopool.teesim.platform:TeeSim"}


def _main(argv: Sequence[str] | None) -> int:
    config, chain_url, level = parse(argv)
    platform: EnclavePlatform | None = None
    if config.tee:
        with starting("load the enclave platform", UnknownPlatform):
            platform = load_platform(config.tee_platform, PLATFORMS)
    logs.configure(level)
    log = logs.get_logger("main")
    from ..chain import connect  # imported here so that `--help` works without a ledger backend
    from ..chain.base import ChainError

    clock = SystemClock()
    with starting(f"open the chain {chain_url}", ChainError):
        chain = connect(chain_url, clock)
    try:  # spec/worker.md §2.1 step 5, before the login: a wallet that cannot pay one transaction stops here
        with starting("pass the ETH check", ChainError):
            low = startup_check(chain, Wallet.from_key(config.private_key).address)
    except StartupError:
        chain.close()
        raise
    if low is not None:
        log.warning("wallet-low", warning=low)
    worker = Worker(config, chain, clock, tee_platform=platform)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        await worker.run()

    try:
        asyncio.run(run())
    except BaseExceptionGroup as group:  # noqa: F821 - builtin since 3.11
        for leaf in exception_leaves(group):
            log.error("worker-failed", error=f"{type(leaf).__name__}: {leaf}")
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - one clear line instead of a traceback
        log.error("worker-failed", error=f"{type(error).__name__}: {error}")
        return EXIT_FAILED
    finally:
        chain.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main("worker", lambda: _main(argv))


if __name__ == "__main__":
    sys.exit(main())
