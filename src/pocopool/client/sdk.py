"""The requester SDK: what the CLI and the web UI do, as plain Python calls.

`Requester` speaks to the chain (deploy, run, claim), the scheduler (off-chain statuses and
histories) and the result store (download). It never imports the scheduler or the worker: it uses
their HTTP contracts only.
"""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from ..chain.base import Chain, ChainError, ChainRevert, DealRequest, Signer
from ..protocol import crypto
from ..protocol.crypto import sha256_hex
from ..protocol.diagnosis import diagnose
from ..protocol.http import DOWNLOAD_SIGNATURE_HEADER, DOWNLOAD_TIMESTAMP_HEADER, error_message
from ..protocol.params import DealParams
from ..protocol.statuses import ChainTaskStatus, TaskStatus
from ..protocol.time import iso, parse_time
from ..protocol.views import ReplicateView, TaskView, wire_date
from . import bundle as bundles
from . import confidential, run_request
from .errors import BadInput, ClientError, NotFound, ServiceUnavailable
from .files import existing_file, folder_to_fill
from .run_request import RunRequest

MAX_DATASET_BYTES = 1024 * 1024 * 1024


class Publisher(Protocol):
    """Makes bytes reachable over HTTP by the workers and says at which URL."""

    def publish(self, relative_path: str, data: bytes) -> str: ...


@dataclass
class DirectoryPublisher:
    """Publishes into a folder that an HTTP file server serves at `base_url`."""

    directory: Path
    base_url: str

    def publish(self, relative_path: str, data: bytes) -> str:
        target = self.directory / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(target.suffix + ".part")
        temporary.write_bytes(data)
        temporary.replace(target)
        return f"{self.base_url.rstrip('/')}/{relative_path}"


@dataclass(frozen=True)
class DeployedAsset:
    address: str
    name: str
    url: str
    checksum: str
    block: int


@dataclass(frozen=True)
class DealRun:
    deal_id: str
    task_ids: list[str]
    block: int


def _revert_message(error: ChainRevert) -> str:
    return f"the chain refused the transaction ({error.rule}): {error.message}"


def _chain_date(timestamp: int | float | None) -> str | None:
    """A chain time as ISO 8601; 0 (a deadline the chain has not set) reads as None."""
    return iso(timestamp) if timestamp else None


# Fields of the scheduler's TaskView that the CLI's task view carries under the same name.
_TASK_FIELDS = (
    "trust",
    "tag",
    "dappName",
    "commandLine",
    "consensus",
    "resultLink",
    "uploadingWorkerWalletAddress",
    "contributionDeadline",
    "revealDeadline",
    "finalDeadline",
    "maxExecutionTime",
)


def _replicate_json(replicate: ReplicateView) -> dict[str, Any]:
    """A replicate in the CLI's task view (keys of docs/contracts.md, stable)."""
    return {
        "worker": replicate.walletAddress,
        "status": replicate.currentStatus.value,
        "exitCode": replicate.appExitCode,
        "contributionHash": replicate.contributionHash,
        "logsCut": replicate.appLogsCut,  # per stream, the cut of its stored log (protocol/applogs.py)
        "statusHistory": [
            {
                "status": u.status.value,
                "date": wire_date(u.date),
                "cause": u.cause.value if u.cause else None,
                **({"message": u.errorMessage} if u.errorMessage else {}),
                **({"exitCode": u.exitCode} if u.exitCode is not None else {}),
                **({"causes": [e.wire() for e in u.exitCauses]} if u.exitCauses else {}),
            }
            for u in replicate.statusUpdateList
        ],
    }


class Requester:
    """One requester's view of a pocopool: its key, the chain, the scheduler and the result store."""

    def __init__(
        self,
        chain: Chain,
        account: Signer,
        scheduler_url: str,
        publisher: Publisher | None = None,
        http_timeout: float = 10.0,
    ) -> None:
        self.chain = chain
        self.account = account
        self.scheduler_url = scheduler_url.rstrip("/")
        self.publisher = publisher
        self.http = httpx.Client(timeout=http_timeout)

    def close(self) -> None:
        self.http.close()

    # ----- deploy ------------------------------------------------------------------------------
    def deploy_app(self, path: Path, *, price: int = 0, tee_heap_bytes: int | None = None) -> DeployedAsset:
        """With `tee_heap_bytes` the app is confidential: its enclave configuration (framework,
        entrypoint, heap, fingerprint of its files) goes into its on-chain mrenclave."""
        app = bundles.load(path)
        mrenclave = app.enclave_config(tee_heap_bytes).to_json() if tee_heap_bytes is not None else ""
        url = self._publish(f"bundles/{app.checksum[2:]}.tar.gz", app.archive)
        receipt = self._transact(
            self.chain.create_app,
            self.account,
            app.name,
            url,
            app.checksum,
            app_type="BUNDLE",
            price=price,
            mrenclave=mrenclave,
        )
        return DeployedAsset(receipt.return_value, app.name, url, app.checksum, receipt.block_number)

    def deploy_dataset(self, path: Path, *, name: str | None = None, price: int = 0) -> DeployedAsset:
        data = existing_file(path, "a dataset").read_bytes()
        if not data:
            raise BadInput(f"{path}: the dataset is empty")
        if len(data) > MAX_DATASET_BYTES:
            raise BadInput(f"{path}: the dataset is larger than {MAX_DATASET_BYTES} bytes")
        checksum = sha256_hex(data)
        url = self._publish(f"datasets/{checksum[2:]}/{path.name}", data)
        dataset_name = name or path.name
        receipt = self._transact(self.chain.create_dataset, self.account, dataset_name, url, checksum, price=price)
        return DeployedAsset(receipt.return_value, dataset_name, url, checksum, receipt.block_number)

    def _publish(self, relative_path: str, data: bytes) -> str:
        if self.publisher is None:
            raise ClientError("no place to publish files: start a devnet, or pass a publisher")
        return self.publisher.publish(relative_path, data)

    # ----- run ---------------------------------------------------------------------------------
    def run(
        self,
        request: RunRequest,
        workerpool: str,
        *,
        beneficiary: str | None = None,
        secret_names: dict[str, str] | None = None,
    ) -> DealRun:
        """Buy the tasks of `request` on `workerpool`, once it is checked (client/run_request.py):
        nothing is bought when a check fails. `secret_names` ({index: secret name already pushed to
        the SMS}, for each index of `request.secrets`) become the deal's iexec_secrets, seen by the
        app as IEXEC_REQUESTER_SECRET_<index>."""
        request, _ = run_request.check(request)
        self.check_on_chain(request)
        names = dict(secret_names or {})
        if sorted(names) != sorted(request.secrets):
            raise BadInput(f"secret names given for {sorted(names)}, but the request's secrets are {request.secrets}")
        params = DealParams(
            iexec_args=request.args,
            iexec_input_files=request.input_files,
            iexec_secrets=names,
            iexec_result_encryption=request.encrypt_result,
        )
        deal_request = DealRequest(
            app=request.app,
            workerpool=workerpool,
            category=request.category,
            dataset=request.dataset,
            trust=request.trust,
            tag=request.tag,
            params=params.to_json(),
            volume=request.tasks,
            beneficiary=beneficiary,
            callback=request.callback,
        )
        receipt = self._transact(self.chain.create_deal, self.account, deal_request)
        deal = self.chain.view_deal(receipt.return_value)
        assert deal is not None
        return DealRun(deal.deal_id, deal.task_ids(), receipt.block_number)

    def check_on_chain(self, request: RunRequest) -> None:
        """BadInput if the chain lacks what `request` needs (an app, a dataset, a category)."""
        self._transact(run_request.check_on_chain, self.chain, request)

    def _transact(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ChainRevert as error:
            raise ClientError(_revert_message(error)) from error
        except ChainError as error:
            raise ServiceUnavailable(f"the chain did not answer: {error}") from error

    # ----- follow ------------------------------------------------------------------------------
    def scheduler_task(self, task_id: str) -> TaskView | None:
        """The scheduler's answer for the task, or None if the scheduler does not know it (yet)."""
        try:
            response = self.http.get(f"{self.scheduler_url}/tasks/{task_id}")
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"the scheduler at {self.scheduler_url} did not answer: {error}") from error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"the scheduler answered {response.status_code} for task {task_id}: {response.text[:200]}"
            )
        try:
            return TaskView.model_validate(response.json())
        except ValueError as error:  # a JSON or pydantic error: not the scheduler's task view
            raise ServiceUnavailable(f"the scheduler sent an unreadable view of task {task_id}: {error}") from error

    def task_view(self, task_id: str) -> dict[str, Any]:
        """Everything known of a task, on and off chain, with the CLI's stable JSON keys."""
        try:
            task_id = crypto.normalize_bytes32(task_id, "task id")
        except crypto.InvalidHex as error:
            raise BadInput(f"a task id is 0x + 64 hex digits, got {task_id!r}") from error
        chain_task = self.chain.view_task(task_id)
        model = self.scheduler_task(task_id)
        if model is None and chain_task.status is ChainTaskStatus.UNSET:
            raise NotFound(f"task {task_id} is unknown to the scheduler and not initialized on chain")
        onchain = {
            "status": chain_task.status.value,
            "contributionDeadline": _chain_date(chain_task.contribution_deadline),
            "revealDeadline": _chain_date(chain_task.reveal_deadline),
            "finalDeadline": _chain_date(chain_task.final_deadline),
            "consensusValue": chain_task.consensus_value,
            "revealCounter": chain_task.reveal_counter,
            "winnerCounter": chain_task.winner_counter,
            "contributors": list(chain_task.contributors),
            "resultDigest": chain_task.result_digest,
            "results": chain_task.results.decode("utf-8", "replace"),
        }
        on_chain = chain_task.status is not ChainTaskStatus.UNSET
        view: dict[str, Any] = {
            "taskId": task_id,
            "dealId": (model.chainDealId if model else None) or (chain_task.deal_id if on_chain else None),
            "taskIndex": model.taskIndex if model and model.taskIndex is not None else chain_task.idx,
            "status": model.currentStatus.value if model else "UNKNOWN",
            "onchainStatus": chain_task.status.value,
            "onchain": onchain,
            "statusHistory": [
                {
                    "status": c.status.value,
                    "date": wire_date(c.date),
                    **{k: v for k, v in (("cause", c.cause), ("message", c.message)) if v},
                }
                for c in (model.dateStatusList if model else [])
            ],
            "replicates": [],
        }
        if model is not None:
            wire = model.wire()
            for key in _TASK_FIELDS:
                if wire.get(key) is not None:
                    view[key] = wire[key]
            view["replicates"] = [_replicate_json(r) for r in model.replicates]
        view["diagnosis"] = diagnose(model) if model is not None else None
        status = view["status"]
        view["final"] = status in (TaskStatus.COMPLETED.value, TaskStatus.FAILED.value)
        return view

    def deal_view(self, deal_id: str) -> dict[str, Any]:
        try:
            deal_id = crypto.normalize_bytes32(deal_id, "deal id")
        except crypto.InvalidHex as error:
            raise BadInput(f"a deal id is 0x + 64 hex digits, got {deal_id!r}") from error
        deal = self.chain.view_deal(deal_id)
        if deal is None:
            raise NotFound(f"no deal {deal_id} on chain")
        tasks = []
        counts: dict[str, int] = {}
        for index, task_id in zip(deal.task_index_range(), deal.task_ids(), strict=True):
            model = self.scheduler_task(task_id)
            status = model.currentStatus.value if model else "UNKNOWN"
            counts[status] = counts.get(status, 0) + 1
            tasks.append(
                {
                    "taskId": task_id,
                    "taskIndex": index,
                    "status": status,
                    "onchainStatus": self.chain.view_task(task_id).status.value,
                }
            )
        return {
            "dealId": deal.deal_id,
            "app": deal.app.pointer,
            "dataset": deal.dataset.pointer,
            "workerpool": deal.workerpool.pointer,
            "requester": deal.requester,
            "beneficiary": deal.beneficiary,
            "trust": deal.trust,
            "category": deal.category,
            "tag": deal.tag,
            "params": deal.params,
            "startTime": _chain_date(deal.start_time),
            "botFirst": deal.bot_first,
            "botSize": deal.bot_size,
            "workerStake": deal.worker_stake,
            "prices": {"app": deal.app.price, "dataset": deal.dataset.price, "workerpool": deal.workerpool.price},
            "counts": counts,
            "tasks": tasks,
        }

    def wait_task(self, task_id: str, timeout: float = 600.0, interval: float = 0.5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                view = self.task_view(task_id)
                if view["final"]:
                    return view
            except NotFound:
                view = None
            if time.monotonic() > deadline:
                status = view["status"] if view else "not seen by the scheduler"
                raise ClientError(f"task {task_id} is still {status} after {timeout:.0f} s")
            time.sleep(interval)

    # ----- refunds -----------------------------------------------------------------------------
    def claim(self, task_id: str) -> dict[str, Any]:
        """Claim a failed task on chain: the requester gets the task's price back (PoCo `claim`).

        Allowed once the task's final deadline is reached and the task is not COMPLETED on chain.
        A task never initialized is initialized and claimed in one transaction. Raises ClientError
        with one sentence when it is not claimable (yet)."""
        try:
            task_id = crypto.normalize_bytes32(task_id, "task id")
        except crypto.InvalidHex as error:
            raise BadInput(str(error)) from error
        chain_task = self._transact(self.chain.view_task, task_id)
        if chain_task.status is ChainTaskStatus.COMPLETED:
            raise ClientError(f"task {task_id} is COMPLETED on chain: there is nothing to claim")
        if chain_task.status is ChainTaskStatus.FAILED:
            raise ClientError(f"task {task_id} was already claimed: the requester was refunded")
        now = self._transact(self.chain.now)
        deal_id, index = chain_task.deal_id, chain_task.idx
        final_deadline = chain_task.final_deadline
        if chain_task.status is ChainTaskStatus.UNSET:
            known = self.scheduler_task(task_id)
            if known is None:
                raise NotFound(f"task {task_id} is neither on chain nor known by the scheduler")
            if known.chainDealId is None or known.taskIndex is None:
                raise ServiceUnavailable(f"the scheduler's view of task {task_id} names no deal")
            deal_id, index = known.chainDealId, known.taskIndex
            final_deadline = parse_time(known.finalDeadline) or 0
        if now < final_deadline:
            raise ClientError(
                f"task {task_id} is not claimable yet: claims open at its final deadline "
                f"{_chain_date(final_deadline)} (in {int(final_deadline - now) + 1} s)"
            )
        deal = self._transact(self.chain.view_deal, deal_id)
        sponsor = deal.sponsor if deal is not None else self.account.address
        before = self._transact(self.chain.view_account, sponsor)
        if chain_task.status is ChainTaskStatus.UNSET:
            receipt = self._transact(self.chain.initialize_and_claim, self.account, deal_id, index)
        else:
            receipt = self._transact(self.chain.claim, self.account, task_id)
        after = self._transact(self.chain.view_account, sponsor)
        return {
            "taskId": task_id,
            "claimed": True,
            "block": receipt.block_number,
            "txHash": receipt.tx_hash,
            "refundedTo": sponsor,
            "refunded": after.balance - before.balance,
        }

    # ----- results -----------------------------------------------------------------------------
    def download(self, task_id: str, directory: Path, *, private_key: str | None = None) -> dict[str, Any]:
        """Fetch a completed task's result archive as the beneficiary and unpack it into `directory`.
        With `private_key` (the beneficiary's PEM) an encrypted result is decrypted first; the
        archive kept beside the files is the one downloaded."""
        folder_to_fill(directory, "the result")
        view = self.task_view(task_id)
        results = view["onchain"]["results"]
        if view["onchainStatus"] != ChainTaskStatus.COMPLETED.value or not results:
            raise ClientError(
                f"task {task_id} has no result yet (on chain: {view['onchainStatus']}, off chain: {view['status']})"
            )
        try:
            link = json.loads(results)
            url = link["location"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ClientError(f"task {task_id} has an unreadable result link on chain: {results!r}") from error
        timestamp = int(time.time())
        signature = crypto.sign_personal(crypto.key_hex(self.account), crypto.download_hash(task_id, timestamp))
        try:
            response = self.http.get(
                url,
                headers={
                    DOWNLOAD_TIMESTAMP_HEADER: str(timestamp),
                    DOWNLOAD_SIGNATURE_HEADER: signature,
                },
            )
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"the result store at {url} did not answer: {error}") from error
        if response.status_code != 200:
            raise ClientError(
                f"the result store refused the download ({response.status_code} {url}): {error_message(response)}"
            )
        archive = response.content
        plain = confidential.open_result(archive, private_key) if private_key is not None else archive
        directory.mkdir(parents=True, exist_ok=True)
        files = _safe_unzip(plain, directory)
        (directory / f"{task_id}.zip").write_bytes(archive)
        return {"taskId": task_id, "directory": str(directory), "files": files, "sha256": sha256_hex(archive)}


def _safe_unzip(archive: bytes, directory: Path) -> list[str]:
    root = directory.resolve()
    names: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            for info in zf.infolist():
                target = (root / info.filename).resolve()
                if root not in target.parents:
                    raise ClientError(f"the result archive has an entry outside its folder: {info.filename!r}")
                if info.is_dir():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
                names.append(info.filename)
    except zipfile.BadZipFile as error:
        raise ClientError(f"the result archive is not a valid zip: {error}") from error
    return sorted(names)
