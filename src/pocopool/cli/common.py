"""What every `pocopool` command shares: the root command, the error handling (one line on stderr,
a non-zero exit code, never a traceback), the output (--json or text) and the common options."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from ..chain.base import ChainError
from ..client.errors import BadInput, ClientError
from ..devnet.state import DevnetError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
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


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def handled(function: F) -> F:
    """Maps every expected failure to one line on stderr and a non-zero exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except typer.Exit:
            raise
        except BadInput as error:
            fail(str(error), 2)
        except (ClientError, DevnetError) as error:
            fail(str(error))
        except ChainError as error:
            fail(f"chain: {error}")
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
