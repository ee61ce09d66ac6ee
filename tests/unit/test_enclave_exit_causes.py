"""A stage whose session lacks a signing token cannot sign a report: it says which token by its exit
code, and the worker reports that stage's own cause (issue 27: not *_EXIT_REPORTING_FAILED in its place)."""

from __future__ import annotations

import pytest

from pocopool.protocol import enclave as protocol
from pocopool.protocol.statuses import ReplicateStatusCause as Cause
from pocopool.protocol.tee import Stage
from pocopool.teesim import enclave
from pocopool.worker.tee.enclaves import exit_failure

FULL = {
    "IEXEC_TASK_ID": "0x" + "11" * 32,
    "SIGN_WORKER_ADDRESS": "0x" + "22" * 20,
    "SIGN_TEE_CHALLENGE_PRIVATE_KEY": "0x" + "33" * 32,
}


@pytest.mark.parametrize(
    ("missing", "code"),
    [
        ("SIGN_WORKER_ADDRESS", protocol.EXIT_WORKER_ADDRESS_MISSING),
        ("SIGN_TEE_CHALLENGE_PRIVATE_KEY", protocol.EXIT_CHALLENGE_KEY_MISSING),
        ("IEXEC_TASK_ID", protocol.EXIT_TASK_ID_MISSING),
    ],
)
def test_a_session_without_a_token_exits_with_the_code_that_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], missing: str, code: int
) -> None:
    session = {k: v for k, v in FULL.items() if k != missing}
    monkeypatch.setattr(enclave, "provision", lambda stage, measurement: dict(session))
    ran: list[str] = []
    assert enclave.run_stage(Stage.PRE, "ab" * 32, lambda env: ran.append("work") or {}) == code
    assert ran == []  # nothing ran that could not be reported
    if missing != "IEXEC_TASK_ID":
        assert f"PRE_COMPUTE_{protocol.EXIT_CAUSES[code]}" in capsys.readouterr().err


@pytest.mark.parametrize("stage", [Stage.PRE, Stage.POST])
@pytest.mark.parametrize("code", sorted(protocol.EXIT_CAUSES))
def test_the_worker_reports_the_cause_each_exit_code_names(stage: Stage, code: int) -> None:
    failure = exit_failure(stage, code, "last line")
    prefix = "PRE_COMPUTE" if stage is Stage.PRE else "POST_COMPUTE"
    assert failure.cause is Cause[f"{prefix}_{protocol.EXIT_CAUSES[code]}"]
    assert failure.message.startswith(f"{stage.value} ") and failure.message.endswith(": last line")


def test_the_two_tokens_have_their_own_causes_not_exit_reporting_failed() -> None:
    assert (
        exit_failure(Stage.PRE, protocol.EXIT_WORKER_ADDRESS_MISSING, "x").cause
        is Cause.PRE_COMPUTE_WORKER_ADDRESS_MISSING
    )
    assert (
        exit_failure(Stage.POST, protocol.EXIT_CHALLENGE_KEY_MISSING, "x").cause
        is Cause.POST_COMPUTE_TEE_CHALLENGE_PRIVATE_KEY_MISSING
    )
