"""service/config.py: a setting's default, help and reader are written once, beside its field."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pytest

from pocopool.results.config import ResultStoreConfig
from pocopool.scheduler.config import SchedulerConfig
from pocopool.service.config import add_options, from_args, http_url, port_number, setting
from pocopool.sms.config import SmsConfig


@dataclass(frozen=True, kw_only=True)
class Example:
    name: str = setting("--name", help="required: no default")
    count: int = setting("--count", default=3, help="an int read by its type")
    ratio: float = setting("--ratio", default=0.5, help="a float")
    where: Path | None = setting("--where", default=None, help="an optional path")
    url: str = setting("--url", default="", read=lambda text: http_url(text) if text else "", help="a URL")
    tags: tuple[str, ...] = setting("--tag", many=True, help="repeatable")
    loud: bool = setting("--loud", flag=True, help="a flag")
    secret: bytes = b""  # not an option: given to from_args


def parse(*argv: str) -> Example:
    parser = argparse.ArgumentParser()
    add_options(parser, Example)
    return from_args(Example, parser.parse_args(list(argv)), secret=b"s")


def test_defaults_come_from_the_class_and_values_are_read_by_type() -> None:
    assert parse("--name", "n") == Example(name="n", secret=b"s")
    read = parse("--name", "n", "--count", "7", "--ratio", "2", "--where", "/x", "--tag", "a", "--tag", "b", "--loud")
    assert (read.count, read.ratio, read.where, read.tags, read.loud) == (7, 2.0, Path("/x"), ("a", "b"), True)


def test_a_string_default_is_kept_as_written_and_a_given_value_is_read() -> None:
    assert parse("--name", "n").url == ""
    assert parse("--name", "n", "--url", "http://h:1/").url == "http://h:1"
    with pytest.raises(SystemExit):
        parse("--name", "n", "--url", "ftp://h")


def test_a_field_without_default_is_a_required_option() -> None:
    with pytest.raises(SystemExit):
        parse()


def test_the_help_shows_each_default_once(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="p")
    add_options(parser, Example)
    text = " ".join(parser.format_help().split())
    assert "an int read by its type (default: 3)" in text and "repeatable" in text and "(default: ())" not in text


@pytest.mark.parametrize(("text", "error"), [("x", "'x' is not a port number"), ("65536", "65536 is not a port")])
def test_ports_are_read_with_a_clear_error(text: str, error: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=error):
        port_number(text)


@pytest.mark.parametrize("config", [SchedulerConfig, ResultStoreConfig, SmsConfig])
def test_every_service_builds_its_parser_from_its_config(config: type) -> None:
    parser = argparse.ArgumentParser()
    add_options(parser, config)
    flags = {flag for action in parser._actions for flag in action.option_strings}
    assert {"--host", "--port"} <= flags
