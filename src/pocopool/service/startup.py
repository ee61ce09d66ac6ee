"""One way for a pocopool process to fail at start: one line on stderr, exit status 2.

Whatever keeps a service from starting (a bad option, an unreadable key or secret file, a chain or
a database that cannot be opened, a damaged file, a port taken) is raised as a `StartupError` whose
message says what and what to do; `run_main` prints it as `pocopool <service>: <message>` and the
process exits with 2 (argparse's own status for bad usage, so "did not start" is one code). A
failure after the start (exit 1) is a crash, and is logged as one by the service.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from ..integrity import one_line

EXIT_DID_NOT_START = 2
EXIT_FAILED = 1


class StartupError(RuntimeError):
    """The service cannot start; the message is one sentence that says why and what to do."""


def fail_at_start(service: str, error: BaseException) -> int:
    """Prints the one line and answers the exit status of a process that did not start."""
    print(f"pocopool {service}: {one_line(str(error))}", file=sys.stderr)
    return EXIT_DID_NOT_START


def run_main(service: str, main: Callable[[], int | None]) -> int:
    """Runs a process's main; a StartupError anywhere in it is said in one line (exit 2)."""
    try:
        return main() or 0
    except StartupError as error:
        return fail_at_start(service, error)


@contextlib.contextmanager
def starting(what: str, *errors: type[BaseException]) -> Iterator[None]:
    """`with starting("open the chain local:/x", ChainError): ...`: an OSError, a ValueError or one of
    `errors` raised inside becomes StartupError("cannot open the chain local:/x: <reason>"); with
    `what` empty, the reason alone (a setting's own check already says what is wrong)."""
    caught: tuple[type[BaseException], ...] = (OSError, ValueError, *errors)
    try:
        yield
    except StartupError:
        raise
    except caught as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise StartupError(f"cannot {what}: {one_line(reason)}" if what else one_line(reason)) from None
