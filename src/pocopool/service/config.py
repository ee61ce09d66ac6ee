"""A process's configuration is one frozen dataclass; each field that can be set on the command line
carries its option (`setting(...)`), so its default, its help and how its text is read are written
once, beside the field, and the parser is built from the class (`add_options`, `from_args`).

    @dataclass(frozen=True)
    class StoreConfig:
        data_dir: Path = setting("--data-dir", read=absolute_path, help="where result zips are kept")
        port: int = setting("--port", default=0, read=port_number, help="port to listen on (0: any)")

A field without a default is a required option. Text is read with `read`, or by the field's type
(int, float, str, Path); a repeatable option (`many=True`) gives a tuple; a flag (`flag=True`) a bool.
Values that are not options (a key read from a file, a secret) are given to `from_args` as keywords.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import MISSING
from pathlib import Path
from typing import Any, TypeVar

from .startup import EXIT_DID_NOT_START

C = TypeVar("C")
_READERS: dict[Any, Callable[[str], Any]] = {int: int, float: float, str: str, Path: Path}


@dataclasses.dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    read: Callable[[str], Any] | None
    choices: Sequence[str] | None
    metavar: str | None
    flag: bool
    many: bool


class OptionParser(argparse.ArgumentParser):
    """argparse with bad usage said the way every start failure is (service/startup.py): one line,
    `pocopool <service>: <what is wrong> (see --help)`, exit status 2."""

    def __init__(self, service: str, **kwargs: Any) -> None:
        super().__init__(prog=f"python -m pocopool.{service}", **kwargs)
        self.service = service.rsplit(".", 1)[-1]

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_DID_NOT_START, f"pocopool {self.service}: {message} (see --help)\n")


def setting(
    *flags: str,
    help: str,  # noqa: A002 - argparse's own word
    default: Any = MISSING,
    read: Callable[[str], Any] | None = None,
    choices: Sequence[str] | None = None,
    metavar: str | None = None,
    flag: bool = False,
    many: bool = False,
) -> Any:
    """A dataclass field set by the command-line option `flags[0]` (the others are aliases)."""
    option = Option(tuple(flags), help, read, choices, metavar, flag, many)
    if flag and default is MISSING:
        default = False
    if many and default is MISSING:
        default = ()
    return dataclasses.field(default=default, metadata={"option": option})


def add_options(parser: argparse.ArgumentParser, config_type: type) -> None:
    """One argparse option per `setting` field of `config_type`, with its default shown in the help."""
    hints = typing.get_type_hints(config_type)
    for field in dataclasses.fields(config_type):
        option: Option | None = field.metadata.get("option")
        if option is None:
            continue
        kwargs: dict[str, Any] = {"dest": field.name, "help": _help(option, field.default)}
        if option.flag:
            parser.add_argument(*option.flags, action="store_true", **kwargs)
            continue
        if field.default is MISSING:
            kwargs["required"] = True
        else:
            kwargs["default"] = list(field.default) if option.many else field.default
        if option.many:
            kwargs["action"] = "append"
        kwargs["type"] = _default_as_is(option.read or _reader(hints[field.name], field.name), field.default)
        if option.choices is not None:
            kwargs["choices"] = option.choices
        if option.metavar is not None:
            kwargs["metavar"] = option.metavar
        parser.add_argument(*option.flags, **kwargs)


def from_args(config_type: type[C], args: argparse.Namespace, **values: Any) -> C:
    """The configuration the parsed `args` (and the keyword `values`) describe; ValueError from the
    class's own checks."""
    for field in dataclasses.fields(config_type):  # type: ignore[arg-type]
        option: Option | None = field.metadata.get("option")
        if option is not None and field.name not in values:
            value = getattr(args, field.name)
            values[field.name] = tuple(value) if option.many else value
    return config_type(**values)


def _help(option: Option, default: Any) -> str:
    shown = default not in (MISSING, None, False, "", ()) and "default" not in option.help
    return f"{option.help} (default: {default})" if shown else option.help


def _default_as_is(read: Callable[[str], Any], default: Any) -> Callable[[str], Any]:
    """argparse reads a string default as if typed: a default stays the value written in the class."""
    if not isinstance(default, str):
        return read
    return lambda text: default if text is default else read(text)


def _reader(hint: Any, name: str) -> Callable[[str], Any]:
    candidates = [hint, *typing.get_args(hint)]  # X | None reads as X
    for candidate in candidates:
        if candidate in _READERS:
            return _READERS[candidate]
    raise TypeError(f"setting {name!r} needs read=: its type {hint!r} has no default reader")


# ----- readers shared by the services ------------------------------------------------------------
def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0-65535; 0: any free port)")
    return port


def http_url(text: str) -> str:
    """An http(s) base URL, without its trailing slash."""
    if not re.match(r"^https?://[^/\s]+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return text.rstrip("/")


def absolute_path(text: str) -> Path:
    return Path(text).resolve()
