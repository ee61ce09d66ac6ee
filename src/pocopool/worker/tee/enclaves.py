"""TEE COMPUTE on an enclave platform (tee-sim by default; docs/tee.md "Flows", `platform.py`):
pre-compute, the app and post-compute, each in its own sandbox, each started with only a session id, a fresh connection to the SMS and a descriptor of
the simulated platform key. The worker reads back signed reports and exit codes, never a secret.

Causes: the bundle is not the one pinned on chain → PRE_COMPUTE_INVALID_ENCLAVE_CONFIGURATION; a
stage past the time limit → PRE/POST_COMPUTE_TIMEOUT (app: APP_COMPUTE_TIMEOUT); exit 1 → the causes
of its signed report; 2 → *_EXIT_REPORTING_FAILED; 3 → *_TASK_ID_MISSING; 5 → *_WORKER_ADDRESS_MISSING;
6 → *_TEE_CHALLENGE_PRIVATE_KEY_MISSING (pocopool's own codes for a session without signing tokens); any other →
*_FAILED_UNKNOWN_ISSUE (spec/worker.md §8.5). A report signed by another key than the task's enclave
key is *_INVALID_TEE_SIGNATURE, whatever it says: the worker trusts nothing in it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ...protocol import enclave as protocol
from ...protocol.crypto import recover_personal, same_address
from ...protocol.models import TeeStageLog
from ...protocol.statuses import ReplicateStatusCause as Cause
from ...protocol.tee import Stage, enclave_report_hash
from ..context import ReplicateContext
from ..description import TaskDescription
from ..env import compute_env
from ..runtimes.base import AppRun, Bind, RunResult
from . import faults
from .platform import EnclavePlatform
from .session import enclave_config

REPORT_TARGET = "/tee-report"
PREFIX = {Stage.PRE: "PRE_COMPUTE", Stage.POST: "POST_COMPUTE"}


def exit_failure(stage: Stage, code: int, last_line: str) -> EnclaveFailed:
    """The failure a stage's own exit code names (protocol/enclave.py EXIT_CAUSES): a stage that could
    not sign a report says by its exit code what it lacked."""
    cause = Cause[f"{PREFIX[stage]}_{protocol.EXIT_CAUSES[code]}"]
    said = {
        protocol.EXIT_REPORTING_FAILED: "failed and could not report why",
        protocol.EXIT_TASK_ID_MISSING: "had no IEXEC_TASK_ID",
        protocol.EXIT_WORKER_ADDRESS_MISSING: "had no SIGN_WORKER_ADDRESS to sign its report with",
        protocol.EXIT_CHALLENGE_KEY_MISSING: "had no SIGN_TEE_CHALLENGE_PRIVATE_KEY to sign its report with",
    }[code]
    return EnclaveFailed(cause, f"{stage.value} {said}: {last_line}")


class EnclaveFailed(Exception):
    """A TEE stage failed: `cause` the first reason, `causes` each reason the enclave reported with
    its message (decision 122)."""

    def __init__(
        self, cause: Cause, message: str, *, app: RunResult | None = None, causes: list[tuple[Cause, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message
        self.app = app  # the app's run, when it got that far
        self.causes = causes or [(cause, message)]


@dataclass
class StageRun:
    stage: Stage
    result: RunResult
    report: dict | None

    def log(self) -> TeeStageLog:
        return TeeStageLog(
            stage=self.stage.value, exitCode=self.result.exit_code, stdout=self.result.stdout, stderr=self.result.stderr
        ).tailed()


def _sms_socket(sms_url: str) -> socket.socket:
    url = urlparse(sms_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        connection = socket.create_connection((url.hostname or "127.0.0.1", port), timeout=10)
    except OSError as error:
        raise EnclaveFailed(Cause.UNKNOWN_SMS, f"the SMS at {sms_url} cannot be reached: {error}") from error
    connection.setblocking(True)  # the enclave reads it as a plain blocking socket
    return connection


def _read_report(stage: Stage, folder: Path, task_id: str, worker: str, challenge: str) -> dict | None:
    """The stage's report if it is signed by the task's enclave key; None if there is none (or it is
    not a JSON object). A report signed by another key raises EnclaveFailed(*_INVALID_TEE_SIGNATURE)."""
    try:
        report = json.loads((folder / protocol.REPORT_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict):
        return None
    signer = recover_personal(enclave_report_hash(task_id, worker), str(report.get("signature") or ""))
    if same_address(signer, challenge):
        return report
    raise EnclaveFailed(
        Cause[f"{PREFIX[stage]}_INVALID_TEE_SIGNATURE"],
        f"the {stage.value} report is signed by {signer or 'no key'}, not by the task's enclave challenge {challenge}",
    )


class Enclaves:
    """The three sandboxes of one replicate."""

    def __init__(
        self, ctx: ReplicateContext, description: TaskDescription, sms_url: str, platform: EnclavePlatform
    ) -> None:
        self.ctx = ctx
        self.platform = platform
        self.description = description
        self.sms_url = sms_url
        self.runtime = ctx.services.runtime
        config = ctx.services.config
        self.limits = config.app_limits(float(description.max_execution_time))
        self.folder = ctx.paths.root / "tee"
        self.stages: list[StageRun] = []

    def _report_dir(self, stage: Stage) -> Path:
        folder = self.folder / stage.value
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        folder.chmod(0o755)
        return folder

    async def _launch(
        self, stage: Stage, argv: tuple[str, ...], env: dict[str, str], cwd: Path, network: bool
    ) -> tuple[RunResult, Path]:
        ctx, paths = self.ctx, self.ctx.paths
        report = Bind(self._report_dir(stage), REPORT_TARGET, writable=faults.report_writable(ctx, stage))
        key_file = ctx.services.config.tee_platform_key_file
        if key_file is None:
            raise EnclaveFailed(
                Cause.TEE_PREPARATION_FAILED, f"no --tee-platform-key-file: {self.platform.name} cannot attest"
            )
        connection = await asyncio.to_thread(_sms_socket, self.sms_url)
        try:
            key_fd = os.open(key_file, os.O_RDONLY)  # handed over, never read by the worker
        except OSError as error:
            connection.close()
            raise EnclaveFailed(Cause.TEE_PREPARATION_FAILED, f"cannot open the platform key file: {error}") from error
        iexec_in, iexec_out = self.runtime.app_paths(paths.input, paths.iexec_out)
        env = {
            **env,
            protocol.ENV_SESSION: faults.enclave_session(ctx, stage, ctx.state.tee_session_id or ""),
            protocol.ENV_SMS_FD: str(connection.fileno()),
            protocol.ENV_PLATFORM_FD: str(key_fd),
            protocol.ENV_REPORT_DIR: self.runtime.visible(report),
            protocol.ENV_IEXEC_IN: iexec_in,
            protocol.ENV_IEXEC_OUT: iexec_out,
        }
        run = AppRun(
            argv=argv,
            env=env,
            bundle_dir=cwd,
            input_dir=paths.input,
            output_dir=paths.iexec_out,
            limits=self.limits,
            network=network,
            binds=(report, *(Bind(root, str(root)) for root in self.platform.read_only_folders())),
            pass_fds=(connection.fileno(), key_fd),
            writable_input=stage == Stage.PRE and faults.input_writable(ctx),
        )
        ctx.log.info("enclave-starting", stage=stage.value, platform=self.platform.label, runtime=self.runtime.name)
        try:
            result = await self.runtime.run(run)
        finally:
            connection.close()
            os.close(key_fd)
        ctx.log.info(
            "enclave-ended",
            stage=stage.value,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            platform_error=result.platform_error,
            seconds=round(result.duration, 3),
        )
        faults.rewrite_report(ctx, stage, report.host / protocol.REPORT_FILE)
        return result, report.host

    def _checked(self, stage: Stage, result: RunResult, folder: Path) -> dict:
        """The stage's signed report after a success; raises EnclaveFailed with the stage's cause."""
        prefix, auth = PREFIX[stage], self.ctx.state.workerpool_authorization
        try:
            report = _read_report(stage, folder, self.ctx.chain_task_id, self.ctx.wallet, auth.enclaveChallenge)
        finally:
            self.stages.append(StageRun(stage, result, None))
        self.stages[-1].report = report
        last_line = (result.stderr.strip().splitlines() or ["no message"])[-1][:500]
        if result.platform_error is not None:
            raise EnclaveFailed(
                Cause[f"{prefix}_FAILED_UNKNOWN_ISSUE"], f"[worker] {stage.value} sandbox: {result.platform_error}"
            )
        if result.timed_out:
            raise EnclaveFailed(
                Cause[f"{prefix}_TIMEOUT"],
                f"{stage.value} killed after {self.limits.time_limit:g} s, the category's time limit",
            )
        code = result.exit_code
        if code == protocol.EXIT_OK and report is not None and "exitCauses" not in report:
            return report
        if code == protocol.EXIT_REPORTED and report is not None:
            causes = [
                c
                for c in report.get("exitCauses") or []
                if isinstance(c, str) and c in Cause.__members__ and c.startswith(prefix)
            ]
            if causes:
                message = str(report.get("message") or last_line)
                raise EnclaveFailed(
                    Cause[causes[0]],
                    f"{', '.join(causes)}: {message}" if len(causes) > 1 else message,
                    causes=[(Cause[cause], message) for cause in causes],
                )
        if code in protocol.EXIT_CAUSES:
            raise exit_failure(stage, code, last_line)
        unsigned = code in (protocol.EXIT_OK, protocol.EXIT_REPORTED)
        detail = "no report signed by the task's enclave key" if unsigned else f"exit {code}"
        raise EnclaveFailed(Cause[f"{prefix}_FAILED_UNKNOWN_ISSUE"], f"{stage.value} failed ({detail}): {last_line}")

    async def pre_compute(self) -> None:
        result, folder = await self._launch(
            Stage.PRE,
            self.platform.command(Stage.PRE),
            {"PATH": "/usr/bin:/bin"},
            self.platform.program_folder(),
            network=True,
        )
        self._checked(Stage.PRE, result, folder)

    async def app(self, bundle_root: Path, argv: tuple[str, ...]) -> RunResult:
        iexec_in, iexec_out = self.runtime.app_paths(self.ctx.paths.input, self.ctx.paths.iexec_out)
        result, folder = await self._launch(
            Stage.APP,
            self.platform.command(Stage.APP, argv),
            compute_env(self.description, iexec_in, iexec_out),
            bundle_root,
            network=self.description.network,
        )
        self.stages.append(StageRun(Stage.APP, result, None))
        try:
            refused = json.loads((folder / protocol.LOADER_REPORT).read_text()).get("error")
        except (OSError, ValueError, AttributeError):
            refused = None
        if refused:
            raise EnclaveFailed(Cause.APP_COMPUTE_FAILED, f"the app enclave did not start: {refused}")
        if result.platform_error is not None:
            raise EnclaveFailed(Cause.APP_COMPUTE_FAILED, f"[worker] app sandbox: {result.platform_error}")
        return result

    async def post_compute(self) -> dict:
        result, folder = await self._launch(
            Stage.POST,
            self.platform.command(Stage.POST),
            {"PATH": "/usr/bin:/bin"},
            self.platform.program_folder(),
            network=True,
        )
        report = self._checked(Stage.POST, result, folder)
        computed = report.get("computed")
        if not isinstance(computed, dict):
            raise EnclaveFailed(Cause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE, "the post-compute report has no computed file")
        return computed

    def check_bundle(self, root: Path) -> None:
        """The bundle the worker downloaded is the one whose fingerprint is on chain."""
        config = enclave_config(self.description, self.ctx.services.config.tee_max_heap_mb)
        found = self.platform.measure_bundle(root)
        if found != config.fingerprint:
            raise EnclaveFailed(
                Cause.PRE_COMPUTE_INVALID_ENCLAVE_CONFIGURATION,
                f"the app bundle measures {found}; its on-chain enclave fingerprint is {config.fingerprint}",
            )


def tee_stage_logs(enclaves: Enclaves) -> list[TeeStageLog]:
    return [stage.log() for stage in enclaves.stages]
