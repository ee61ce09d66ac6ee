"""What every `pocopool` command shares: the root command, the error handling (one line on stderr,
a non-zero exit code, never a traceback), the output (--json or text) and the common options.

Errors are said in one place each: `handled` maps what a command raises (exit 1, or 2 for bad
input), `OneLineGroup` what click refuses before a command runs (a bad option value, a missing
argument, an unknown command: exit 2). Both print `error: <one line>` on stderr.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

try:  # the click whose exceptions typer's commands raise: its own copy since typer 0.2x, else click
    from typer._click import exceptions as usage
except ImportError:  # pragma: no cover - an older typer
    from click import exceptions as usage  # type: ignore[no-redef]

from ..chain.base import ChainError
from ..client.errors import BadInput, ClientError
from ..devnet.state import DevnetError, DevnetOptionError

F = TypeVar("F", bound=Callable[..., Any])
BAD_INPUT = 2  # the exit status of every refusal of the user's input, click's usage errors' too


def usage_line(error: usage.ClickException) -> str:
    """Click's refusal in one line: what is wrong, and where the command's help is."""
    if isinstance(error, usage.BadParameter) and not isinstance(error, usage.MissingParameter) and error.param:
        what = error.message[:1].lower() + error.message[1:]
        message = f"{error.param.get_error_hint().replace(chr(39), '')}: {what}"
    else:
        message = error.format_message()
    message = " ".join(message.split()).rstrip(".")
    command_path = getattr(getattr(error, "ctx", None), "command_path", None)
    if command_path:
        message += f"; see {command_path} --help"
    return message


class OneLineGroup(TyperGroup):
    """The root command: click's usage errors become one line instead of typer's boxed usage."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            # Not standalone: click hands back its exceptions, and a typer.Exit as its exit code.
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except usage.NoArgsIsHelpError as error:
            sys.exit(error.exit_code)  # typer printed the help already
        except usage.ClickException as error:
            _say(usage_line(error), error.exit_code)
        except typer.Abort:
            _say("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=OneLineGroup,
    help="pocopool: a workerpool for verifiable off-chain computing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

HomeOption = typer.Option(
    None, "--home", envvar="POCOPOOL_HOME", help="Devnet home folder (or POCOPOOL_HOME).", file_okay=False
)
JsonOption = typer.Option(False, "--json", help="Print JSON with stable keys.")
KeyOption = typer.Option(None, "--key", help="Key file of the requester (default: the devnet's requester key).")


def _say(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    """One line on stderr about the input that was accepted but means something else than it says."""
    typer.echo(f"note: {message}", err=True)


def os_error_line(error: OSError) -> str:
    """An OSError as the file it is about and what the system said, e.g. `out: File exists`."""
    where = " → ".join(str(name) for name in (error.filename, error.filename2) if name is not None)
    reason = error.strerror or str(error)
    return f"{where}: {reason}" if where else reason


def handled(function: F) -> F:
    """Maps every expected failure to one line on stderr and a non-zero exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except typer.Exit:
            raise
        except (BadInput, DevnetOptionError) as error:
            fail(str(error), BAD_INPUT)
        except (ClientError, DevnetError) as error:
            fail(str(error))
        except ChainError as error:
            fail(f"chain: {error}")
        except OSError as error:  # a file of the user's that cannot be read or written
            fail(os_error_line(error))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as error:  # noqa: BLE001 - the promise is: never a traceback
            fail(f"unexpected {type(error).__name__}: {error}")

    return wrapper  # type: ignore[return-value]


def emit(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        human(data)
