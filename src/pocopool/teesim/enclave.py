"""What every tee-sim enclave program shares (a **simulation**: no SGX/TDX hardware).

An enclave program starts in its own sandbox with, from the worker, only non-secret things: a session
id, an open connection to the SMS, an open read-only descriptor of the simulated platform key and a
report folder (docs/tee.md). It then:
1. makes an ephemeral X25519 key and measures what it runs (its own source, or the app bundle);
2. has the "platform" sign a quote over (session, stage, measurement, public key) and closes the
   platform key descriptor, so that no code it does not own can use it;
3. sends the quote to the SMS over the connection it was given and unseals the stage's secrets;
4. does its work; pre- and post-compute sign their report with the task's enclave key.

Exit codes (spec/worker.md §8.5): 0 done, 1 causes reported, 2 the report could not be written,
3 IEXEC_TASK_ID missing; NOT_PROVISIONED (4) when the SMS gave no secrets (nothing could be signed).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from ..protocol.crypto import sign_personal
from ..protocol.enclave import (
    ENV_PLATFORM_FD,
    ENV_REPORT_DIR,
    ENV_SESSION,
    ENV_SMS_FD,
    EXIT_CAUSES,
    EXIT_CHALLENGE_KEY_MISSING,
    EXIT_NOT_PROVISIONED,
    EXIT_OK,
    EXIT_REPORTED,
    EXIT_REPORTING_FAILED,
    EXIT_TASK_ID_MISSING,
    EXIT_WORKER_ADDRESS_MISSING,
    REPORT_FILE,
)
from ..protocol.http import error_body
from ..protocol.tee import SIMULATION_LABEL, SealError, Stage, enclave_report_hash, new_enclave_key, sign_quote, unseal


class NotProvisioned(Exception):
    """The enclave got no secrets: the SMS refused it or could not be reached."""


class StageFailure(Exception):
    """The stage failed with these reference causes (names of ReplicateStatusCause)."""

    def __init__(self, causes: list[str], message: str) -> None:
        super().__init__(message)
        self.causes = causes
        self.message = message


def say(stage: Stage, message: str) -> None:
    """One line on stderr: the stage's log, which the worker shows to the requester only."""
    print(f"[{SIMULATION_LABEL}] {stage.value}: {message}", file=sys.stderr, flush=True)


def _take_fd(name: str) -> int:
    value = os.environ.get(name, "")
    if not value.isdigit():
        raise NotProvisioned(f"{name} is not set: the worker must start the enclave")
    return int(value)


def _platform_key() -> str:
    fd = _take_fd(ENV_PLATFORM_FD)
    try:
        with os.fdopen(fd, "rb") as handle:
            return handle.read().decode().strip()
    except OSError as error:
        raise NotProvisioned(f"cannot read the simulated platform key: {error}") from error


def _ask_sms(session: str, stage: Stage, body: bytes) -> dict:
    fd = _take_fd(ENV_SMS_FD)
    connection = http.client.HTTPConnection("sms", timeout=60)
    try:
        sock = socket.socket(fileno=fd)
        sock.settimeout(60)  # the worker may hand over a non-blocking descriptor
        connection.sock = sock
        connection.request(
            "POST",
            f"/tee/sessions/{session}/{stage.value}/secrets",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        raw = answer.read()
    except OSError as error:
        raise NotProvisioned(f"cannot reach the SMS: {type(error).__name__}: {error}") from error
    finally:
        connection.close()
    try:
        data = json.loads(raw)
    except ValueError:
        data = {}
    if answer.status != 200 or not isinstance(data, dict) or not isinstance(data.get("sealed"), str):
        refusal = error_body(raw)
        raise NotProvisioned(
            f"the SMS refused the {stage.value} enclave: {refusal.code or answer.status}: {refusal.sentence(200)}"
        )
    return data


def provision(stage: Stage, measurement: str) -> dict[str, str]:
    """Attest to the SMS and return the stage's secrets (its environment)."""
    session = os.environ.get(ENV_SESSION, "")
    if not session:
        raise NotProvisioned(f"{ENV_SESSION} is not set")
    private, public = new_enclave_key()
    quote = sign_quote(_platform_key(), session, stage, measurement, public)
    data = _ask_sms(
        session, stage, json.dumps({"measurement": measurement, "enclavePublicKey": public, "quote": quote}).encode()
    )
    try:
        env = json.loads(unseal(private, data["sealed"]))["env"]
    except (SealError, ValueError, KeyError, TypeError) as error:
        raise NotProvisioned(f"the sealed secrets cannot be opened: {error}") from error
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise NotProvisioned("the sealed secrets are not a map of strings")
    return env


def worker_path(name: str) -> Path:
    value = os.environ.get(name, "")
    if not value:
        raise StageFailure(["FAILED_UNKNOWN_ISSUE"], f"{name} is not set by the worker")
    return Path(value)


def write_report(env: dict[str, str], body: dict) -> None:
    """`report.json`, signed by the task's enclave key over keccak(taskId ‖ worker); atomic."""
    body = {
        **body,
        "signature": sign_personal(
            env["SIGN_TEE_CHALLENGE_PRIVATE_KEY"], enclave_report_hash(env["IEXEC_TASK_ID"], env["SIGN_WORKER_ADDRESS"])
        ),
    }
    folder = Path(os.environ.get(ENV_REPORT_DIR, ""))
    partial = folder / (REPORT_FILE + ".partial")
    partial.write_text(json.dumps(body))
    os.replace(partial, folder / REPORT_FILE)


def run_stage(stage: Stage, measurement: str, work: Callable[[dict[str, str]], dict]) -> int:
    """Provision, check the signing tokens, run `work(env)` and report; the process's exit code."""
    prefix = stage.name  # PRE or POST: the reference's cause prefix
    try:
        env = provision(stage, measurement)
    except NotProvisioned as error:
        say(stage, str(error))
        return EXIT_NOT_PROVISIONED
    if not env.get("IEXEC_TASK_ID"):
        say(stage, "IEXEC_TASK_ID is missing from the session")
        return EXIT_TASK_ID_MISSING
    for name, code in (
        ("SIGN_WORKER_ADDRESS", EXIT_WORKER_ADDRESS_MISSING),
        ("SIGN_TEE_CHALLENGE_PRIVATE_KEY", EXIT_CHALLENGE_KEY_MISSING),
    ):
        if not env.get(name):  # nothing can be signed: the exit code names the missing token
            say(stage, f"the session misses its signing token {name} ({prefix}_COMPUTE_{EXIT_CAUSES[code]})")
            return code
    say(stage, f"attested and provisioned for task {env['IEXEC_TASK_ID']}")
    try:
        report = work(env)
    except StageFailure as failure:
        causes = [
            cause if cause.startswith(f"{prefix}_COMPUTE_") else f"{prefix}_COMPUTE_{cause}" for cause in failure.causes
        ]
        say(stage, f"failed: {', '.join(causes)}: {failure.message}")
        report = {"exitCauses": causes, "message": failure.message}
        code = EXIT_REPORTED
    else:
        code = EXIT_OK
    try:
        write_report(env, report)
    except OSError as error:
        say(stage, f"cannot write the report: {error}")
        return EXIT_REPORTING_FAILED
    if code == EXIT_OK:
        say(stage, "done")
    return code


def main(stage: Stage, measurement: Callable[[], str], work: Callable[[dict[str, str]], dict]) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(run_stage(stage, measurement(), work))
    sys.exit(130)
