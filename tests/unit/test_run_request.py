"""What a requester asks to buy is checked by the rules the worker applies later (client/run_request.py,
protocol/params.py): what a worker would refuse is refused before the deal, what it runs is accepted."""

from __future__ import annotations

import re

import pytest

from pocopool.client.errors import BadInput
from pocopool.client.run_request import RunRequest, check
from pocopool.protocol.crypto import normalize_address
from pocopool.protocol.params import DealParams, args_problem, input_file_problem
from pocopool.protocol.tags import int_to_tag
from pocopool.protocol.tee import SIM_FRAMEWORK_TAG

APP = "0x" + "AB" * 20


def test_a_plain_request_is_accepted_with_its_addresses_normalized() -> None:
    request, notes = check(RunRequest(app=APP, args='say "hello world"', input_files=("HTTPS://files.example/a",)))
    assert request.app == normalize_address(APP) and notes == []


@pytest.mark.parametrize("args", ["", "world", 'say "hello world"', "a\\ b 'c d'", "--flag=1 -- x"])
def test_args_the_worker_can_split_are_accepted(args: str) -> None:
    assert args_problem(args) is None
    check(RunRequest(app=APP, args=args))
    DealParams(iexec_args=args).argv()  # the worker's own split


@pytest.mark.parametrize("args", ['unbalanced "quote', "it's", "trailing\\", "nul\0byte"])
def test_args_the_worker_cannot_run_are_refused(args: str) -> None:
    with pytest.raises(BadInput) as refused:
        check(RunRequest(app=APP, args=args))
    assert str(refused.value).startswith(f"--args {args!r} ") and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "url", ["ftp://files.example/a", "file:///etc/passwd", "files.example/a", "http://", "https://[::1/a"]
)
def test_input_files_a_worker_cannot_download_are_refused(url: str) -> None:
    assert input_file_problem(url) is not None
    with pytest.raises(BadInput, match="^--input-file "):
        check(RunRequest(app=APP, input_files=("http://files.example/ok", url)))


def test_trust_zero_is_accepted_and_said_to_be_trust_one() -> None:
    _, notes = check(RunRequest(app=APP, trust=0))
    assert notes == ["--trust 0 is trust 1 on chain (PoCo keeps max(trust, 1)): one worker's result is accepted"]
    assert check(RunRequest(app=APP, trust=1))[1] == []


@pytest.mark.parametrize(
    ("request_", "said"),
    [
        (RunRequest(app="nope"), "APP must be an address"),
        (RunRequest(app=APP, callback="0x1"), "--callback must be an address"),
        (RunRequest(app=APP, trust=-3), "--trust must be 0 or more, got -3"),
        (RunRequest(app=APP, tasks=10_001), "--tasks must be between 1 and 10000, got 10001"),
        (RunRequest(app=APP, category=-1), "--category must be 0 or more, got -1"),
        (RunRequest(app=APP, encrypt_result=True), "add --tee"),
    ],
)
def test_values_no_deal_can_hold_are_refused(request_: RunRequest, said: str) -> None:
    with pytest.raises(BadInput, match=re.escape(said)):
        check(request_)


def test_secrets_are_accepted_on_a_tee_request() -> None:
    check(RunRequest(app=APP, secrets=("1",), encrypt_result=True, tag=int_to_tag(SIM_FRAMEWORK_TAG)))
