"""The pipeline stages against a real LocalChain, real HTTP downloads and the real sandbox.

No scheduler here: each stage is called the way the replicate runner calls it, and its outcome (the
status and details it would report) is checked, with what it left on disk and on chain.
"""

from __future__ import annotations

import io
import json
import tarfile
import threading
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from pocopool.chain import DealRequest, LocalChain
from pocopool.protocol.crypto import (
    ZERO_ADDRESS,
    recover_personal,
    result_hash,
    sha256_hex,
    sign_authorization,
    upload_body_hash,
)
from pocopool.protocol.crypto import (
    task_id as compute_task_id,
)
from pocopool.protocol.digest import error_result_text
from pocopool.protocol.models import (
    Signature,
    TaskNotification,
    TaskNotificationExtra,
    WorkerpoolAuthorization,
)
from pocopool.protocol.statuses import (
    ChainContributionStatus,
    ChainTaskStatus,
)
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
)
from pocopool.protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.protocol.time import VirtualClock
from pocopool.worker.authorization import authorization_problem
from pocopool.worker.bundle import BundleCache
from pocopool.worker.config import WorkerConfig
from pocopool.worker.context import ReplicateContext, WorkerServices
from pocopool.worker.downloads import Downloader
from pocopool.worker.env import input_file_name
from pocopool.worker.logs import get_logger
from pocopool.worker.recovery import resumable_state
from pocopool.worker.runtimes import ProcessRuntime, Runtime, SandboxRuntime
from pocopool.worker.stages import (
    abort,
    app_download,
    complete,
    compute,
    contribute,
    data_download,
    reveal,
    start,
    upload,
)
from pocopool.worker.stages.outcome import Outcome
from pocopool.worker.state import ReplicateState
from pocopool.worker.workspace import Workspace
from proving import Report, assert_reported

KEYS = {
    name: "0x" + byte * 32
    for name, byte in (
        ("owner", "01"),
        ("scheduler", "a1"),
        ("requester", "c3"),
        ("worker", "b2"),
        ("app_owner", "0a"),
        ("stranger", "5e"),
        ("poor", "9f"),
    )
}
START = 1_700_000_000
POOL_PRICE = 1_000_000_000

APP = r"""
import json, os, sys
inputs = os.environ["IEXEC_IN"]
dataset = open(os.path.join(inputs, os.environ["IEXEC_DATASET_FILENAME"])).read()
extra = open(os.path.join(inputs, os.environ["IEXEC_INPUT_FILE_NAME_1"])).read()
out = os.environ["IEXEC_OUT"]
with open(os.path.join(out, "result.txt"), "w") as handle:
    handle.write(f"{dataset}+{extra}+{' '.join(sys.argv[1:])}")
with open(os.path.join(out, "computed.json"), "w") as handle:
    json.dump({"deterministic-output-path": "/iexec_out/result.txt"}, handle)
print("computed", sys.argv[1:])
"""


def bundle_bytes(source: str, entrypoint: tuple[str, ...] = ("python3", "main.py")) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in (
            ("app/app.json", json.dumps({"name": "t", "entrypoint": list(entrypoint)})),
            ("app/main.py", source),
        ):
            data = content.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Files:
    """A small HTTP server on 127.0.0.1: GET serves `files`, PUT /results/<task> plays the result store."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, bytes]] = {}
        self.uploads: list[tuple[str, dict[str, str], bytes]] = []
        self.upload_answer: tuple[int, dict] = (201, {})
        files = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes, kind: str = "application/octet-stream") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                status, body = files.files.get(self.path, (404, b"no such file"))
                self._answer(status, body)

            def do_PUT(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                files.uploads.append((self.path, dict(self.headers), body))
                status, answer = files.upload_answer
                self._answer(
                    status, json.dumps(answer or {"resultLink": f"pocopool:{self.path}"}).encode(), "application/json"
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def serve(self, path: str, content: bytes, status: int = 200) -> str:
        self.files[path] = (status, content)
        return self.url + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class World:
    chain: LocalChain
    clock: VirtualClock
    files: Files
    workspace: Workspace
    services: WorkerServices
    accounts: dict[str, LocalAccount]
    workerpool: str

    @property
    def worker(self) -> LocalAccount:
        return self.accounts["worker"]

    def app(self, source: str = APP, *, checksum: str | None = None, name: str = "app.tar.gz") -> str:
        archive = bundle_bytes(source)
        url = self.files.serve(f"/{name}", archive)
        return self.chain.create_app(
            self.accounts["app_owner"], name, url, checksum or sha256_hex(archive)
        ).return_value

    def dataset(self, content: bytes = b"DATA", *, status: int = 200, checksum: str | None = None) -> str:
        url = self.files.serve("/dataset.bin", content, status)
        return self.chain.create_dataset(
            self.accounts["app_owner"], "data", url, checksum or sha256_hex(content)
        ).return_value

    def task(
        self,
        app: str,
        *,
        dataset: str = ZERO_ADDRESS,
        params: dict | None = None,
        category: int = 0,
        initialize: bool = True,
    ) -> tuple[str, str]:
        request = DealRequest(
            app=app,
            workerpool=self.workerpool,
            category=category,
            dataset=dataset,
            params=json.dumps(params or {}),
            trust=1,
        )
        deal_id = self.chain.create_deal(self.accounts["requester"], request).return_value
        if not initialize:
            return deal_id, compute_task_id(deal_id, 0)
        return deal_id, self.chain.initialize(self.accounts["scheduler"], deal_id, 0).return_value

    def context(
        self, deal_id: str, task_id: str, *, signer: str = "scheduler", worker: str = "worker"
    ) -> ReplicateContext:
        wallet = self.accounts[worker].address
        authorization = WorkerpoolAuthorization(
            chainTaskId=task_id,
            dealId=deal_id,
            taskIndex=0,
            workerWallet=wallet,
            enclaveChallenge=ZERO_ADDRESS,
            signature=Signature(value=sign_authorization(KEYS[signer], wallet, task_id)),
        )
        services = self.services
        if worker != "worker":
            services = WorkerServices(**{**services.__dict__, "account": self.accounts[worker]})
        paths = self.workspace.task(task_id)
        paths.root.mkdir(parents=True, exist_ok=True)
        return ReplicateContext(
            services, task_id, paths, ReplicateState(task_id, authorization.wire()), get_logger("test", task=task_id)
        )


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    sandbox = SandboxRuntime.for_host()
    return sandbox if sandbox is not None else ProcessRuntime()


@pytest.fixture
async def world(tmp_path: Path, runtime: Runtime) -> AsyncIterator[World]:
    accounts = {name: Account.from_key(key) for name, key in KEYS.items()}
    clock = VirtualClock(START)
    chain = LocalChain.create(tmp_path / "chain.db", accounts["owner"].address, clock=clock)
    for name in ("scheduler", "requester", "worker", "stranger"):
        chain.mint(accounts["owner"], accounts[name].address, 100 * POOL_PRICE)
    workerpool = chain.create_workerpool(accounts["scheduler"], "pool", price=POOL_PRICE).return_value
    files = Files()
    workspace = Workspace(tmp_path / "workdir")
    workspace.open()
    downloads = Downloader(timeout=10)
    config = WorkerConfig(scheduler_url="http://unused", workdir=workspace.root, private_key=KEYS["worker"])
    services = WorkerServices(
        config=config,
        account=accounts["worker"],
        chain=chain,
        clock=clock,
        workspace=workspace,
        bundles=BundleCache(workspace.bundles, downloads, 2**20, 2**24),
        downloads=downloads,
        runtime=runtime,
        result_repository_url=files.url,
    )
    yield World(chain, clock, files, workspace, services, accounts, workerpool)
    await downloads.close()
    files.close()
    workspace.close()
    chain.close()


def push(task_id: str, action: Next, **extra: object) -> TaskNotification:
    return TaskNotification(
        chainTaskId=task_id,
        taskNotificationType=action,
        taskNotificationExtra=TaskNotificationExtra(**extra) if extra else None,
    )


def reports(*outcomes: Outcome) -> list[Report]:
    """What these stage outcomes report to the scheduler, as the proof helper reads it."""
    return [
        (o.status.value, o.cause.value if o.cause else None, o.details.errorMessage if o.details else None)
        for o in outcomes
    ]


# ----- the whole way through --------------------------------------------------------------------------
async def test_a_task_goes_from_start_to_reveal_and_its_digest_is_on_chain(world: World) -> None:
    inputs = world.files.serve("/extra.txt", b"EXTRA")
    deal_id, task_id = world.task(
        world.app(), dataset=world.dataset(), params={"iexec_args": "one 'two three'", "iexec_input_files": [inputs]}
    )
    ctx = world.context(deal_id, task_id)

    assert (await start.run(ctx, push(task_id, Next.PLEASE_START))).status is RS.STARTED
    assert (await app_download.run(ctx, push(task_id, Next.PLEASE_DOWNLOAD_APP))).status is RS.APP_DOWNLOADED
    assert (await data_download.run(ctx, push(task_id, Next.PLEASE_DOWNLOAD_DATA))).status is RS.DATA_DOWNLOADED
    dataset_address = (await ctx.description()).dataset_address
    assert (ctx.paths.input / dataset_address).read_bytes() == b"DATA"
    assert (ctx.paths.input / input_file_name(inputs)).read_bytes() == b"EXTRA"

    computed = await compute.run(ctx, push(task_id, Next.PLEASE_COMPUTE))
    assert computed.status is RS.COMPUTED, computed
    assert computed.details.exitCode == 0
    assert computed.details.computeLogs.stdout == "computed ['one', 'two three']\n"
    result = b"DATA+EXTRA+one two three"
    assert ctx.state.result_digest == sha256_hex(result)
    with zipfile.ZipFile(ctx.paths.zip) as archive:
        assert archive.namelist() == ["computed.json", "result.txt", "stdout.txt"]
        assert archive.read("result.txt") == result

    contributed = await contribute.run(ctx, push(task_id, Next.PLEASE_CONTRIBUTE))
    assert contributed.status is RS.CONTRIBUTED, contributed
    block = contributed.details.chainReceipt.blockNumber
    assert block > 0 and contributed.details.chainReceipt.txHash
    on_chain = world.chain.view_contribution(task_id, world.worker.address)
    assert on_chain.status is ChainContributionStatus.CONTRIBUTED
    assert on_chain.result_hash == result_hash(task_id, ctx.state.result_digest)
    assert world.chain.view_task(task_id).status is ChainTaskStatus.REVEALING  # trust 1: consensus at once

    again = await contribute.run(ctx, push(task_id, Next.PLEASE_CONTRIBUTE))
    assert again == contributed  # a replayed request reports the same receipt, no second transaction

    revealed = await reveal.run(ctx, push(task_id, Next.PLEASE_REVEAL, blockNumber=block))
    assert revealed.status is RS.REVEALED, revealed
    assert world.chain.view_contribution(task_id, world.worker.address).status is ChainContributionStatus.PROVED
    assert world.chain.view_task(task_id).result_digest == ctx.state.result_digest


async def test_the_upload_is_signed_by_the_worker_and_the_link_reported(world: World) -> None:
    deal_id, task_id = world.task(
        world.app(), dataset=world.dataset(), params={"iexec_input_files": [world.files.serve("/x", b"X")]}
    )
    ctx = world.context(deal_id, task_id)
    for stage, action in (
        (app_download, Next.PLEASE_DOWNLOAD_APP),
        (data_download, Next.PLEASE_DOWNLOAD_DATA),
        (compute, Next.PLEASE_COMPUTE),
    ):
        await stage.run(ctx, push(task_id, action))

    uploaded = await upload.run(ctx, push(task_id, Next.PLEASE_UPLOAD, resultUploadAuthorization="0xfeed"))

    assert uploaded.status is RS.RESULT_UPLOADED, uploaded
    assert uploaded.details.resultLink == f"pocopool:/results/{task_id}"
    path, headers, body = world.files.uploads[-1]
    assert path == f"/results/{task_id}" and body == ctx.paths.zip.read_bytes()
    assert headers["X-Worker"] == world.worker.address
    assert headers["X-Upload-Authorization"] == "0xfeed"
    signer = recover_personal(upload_body_hash(task_id, sha256_hex(body)), headers["X-Worker-Signature"])
    assert signer == world.worker.address


async def test_a_refused_upload_reports_the_result_stores_answer(world: World) -> None:
    deal_id, task_id = world.task(world.app())
    ctx = world.context(deal_id, task_id)
    ctx.paths.output.mkdir(parents=True)
    ctx.paths.zip.write_bytes(b"PK\x05\x06" + bytes(18))
    world.files.upload_answer = (422, {"error": "the zip's digest differs from the on-chain result digest"})

    outcome = await upload.run(ctx, push(task_id, Next.PLEASE_UPLOAD, resultUploadAuthorization="0xfeed"))

    assert outcome.status is RS.RESULT_UPLOAD_FAILED and outcome.cause is Cause.RESULT_LINK_MISSING
    assert outcome.details.errorMessage == (
        f"422 PUT {world.files.url}/results/{task_id}: the zip's digest differs from the on-chain result digest"
    )


async def test_complete_and_abort_delete_the_task_folder(world: World) -> None:
    deal_id, task_id = world.task(world.app())
    ctx = world.context(deal_id, task_id)
    ctx.save()
    assert (await complete.run(ctx, push(task_id, Next.PLEASE_COMPLETE))).status is RS.COMPLETED
    assert not ctx.paths.root.exists()
    ctx.save()  # a purged replicate writes nothing any more
    assert not ctx.paths.root.exists()

    deal_id, task_id = world.task(world.app(name="other.tar.gz"))
    ctx = world.context(deal_id, task_id)
    ctx.save()
    outcome = await abort.run(ctx, push(task_id, Next.PLEASE_ABORT, taskAbortCause="CONSENSUS_REACHED"))
    assert (outcome.status, outcome.cause) == (RS.ABORTED, Cause.CONSENSUS_REACHED)
    assert not ctx.paths.root.exists()


# ----- download failures become error results -----------------------------------------------------------
async def test_an_app_with_a_wrong_checksum_gives_an_error_result_that_is_contributed(world: World) -> None:
    deal_id, task_id = world.task(world.app(checksum="0x" + "ab" * 32))
    ctx = world.context(deal_id, task_id)

    outcome = await app_download.run(ctx, push(task_id, Next.PLEASE_DOWNLOAD_APP))

    assert (outcome.status, outcome.cause) == (RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED)
    assert "checksum mismatch" in outcome.details.errorMessage
    assert f"expected 0x{'ab' * 32}, found 0x" in outcome.details.errorMessage
    text = error_result_text("APP_DOWNLOAD_FAILED", "APP_IMAGE_DOWNLOAD_FAILED")
    assert (ctx.paths.iexec_out / "error.txt").read_text() == text
    assert ctx.state.result_digest == sha256_hex(text.encode())
    assert not list(world.workspace.bundles.iterdir())  # nothing unverified is cached

    contributed = await contribute.run(ctx, push(task_id, Next.PLEASE_CONTRIBUTE))
    assert contributed.status is RS.CONTRIBUTED
    assert world.chain.view_contribution(task_id, world.worker.address).result_hash == result_hash(
        task_id, sha256_hex(text.encode())
    )


async def test_an_unreachable_bundle_gives_an_error_result_with_the_http_status(world: World) -> None:
    app = world.app()
    world.files.files["/app.tar.gz"] = (404, b"gone")
    deal_id, task_id = world.task(app)
    outcome = await app_download.run(world.context(deal_id, task_id), push(task_id, Next.PLEASE_DOWNLOAD_APP))
    assert (outcome.status, outcome.cause) == (RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED)
    assert outcome.details.errorMessage == f"404 GET {world.files.url}/app.tar.gz: gone"


async def test_a_missing_dataset_gives_an_error_result(world: World) -> None:
    deal_id, task_id = world.task(world.app(), dataset=world.dataset(b"not found", status=404))
    ctx = world.context(deal_id, task_id)

    outcome = await data_download.run(ctx, push(task_id, Next.PLEASE_DOWNLOAD_DATA))

    assert (outcome.status, outcome.cause) == (RS.DATA_DOWNLOAD_FAILED, Cause.DATASET_FILE_DOWNLOAD_FAILED)
    assert outcome.details.errorMessage == f"404 GET {world.files.url}/dataset.bin: not found"
    text = error_result_text("DATA_DOWNLOAD_FAILED", "DATASET_FILE_DOWNLOAD_FAILED")
    assert ctx.state.result_digest == sha256_hex(text.encode())


@pytest.mark.parametrize(
    ("content", "checksum", "cause", "message"),
    [
        (b"", None, Cause.DATASET_FILE_DOWNLOAD_FAILED, "empty body"),
        (
            b"DATA",
            "0x" + "cd" * 32,
            Cause.DATASET_FILE_BAD_CHECKSUM,
            f"expected 0x{'cd' * 32}, found {sha256_hex(b'DATA')}",
        ),
    ],
)
async def test_an_empty_or_altered_dataset_gives_an_error_result(
    world: World, content: bytes, checksum: str | None, cause: Cause, message: str
) -> None:
    deal_id, task_id = world.task(world.app(), dataset=world.dataset(content, checksum=checksum))
    outcome = await data_download.run(world.context(deal_id, task_id), push(task_id, Next.PLEASE_DOWNLOAD_DATA))
    assert (outcome.status, outcome.cause) == (RS.DATA_DOWNLOAD_FAILED, cause)
    assert message in outcome.details.errorMessage


async def test_every_download_that_fails_is_a_cause_of_its_own(world: World) -> None:
    """Decision 122: the dataset and both input files fail; each is reported, in order, with its
    message, and the error result names each."""
    dataset = world.dataset(b"not found", status=404)
    inputs = [world.files.url + "/first", world.files.url + "/second"]
    deal_id, task_id = world.task(world.app(), dataset=dataset, params={"iexec_input_files": inputs})
    ctx = world.context(deal_id, task_id)
    outcome = await data_download.run(ctx, push(task_id, Next.PLEASE_DOWNLOAD_DATA))
    listed = [(e.cause, e.message) for e in outcome.details.exitCauses]
    assert [cause for cause, _ in listed] == [
        Cause.DATASET_FILE_DOWNLOAD_FAILED,
        Cause.INPUT_FILES_DOWNLOAD_FAILED,
        Cause.INPUT_FILES_DOWNLOAD_FAILED,
    ]
    assert "dataset.bin" in listed[0][1] and inputs[0] in listed[1][1] and inputs[1] in listed[2][1]
    assert outcome.cause is Cause.DATASET_FILE_DOWNLOAD_FAILED  # the first is the one the reference reads
    text = error_result_text(
        "DATA_DOWNLOAD_FAILED",
        "DATASET_FILE_DOWNLOAD_FAILED",
        "INPUT_FILES_DOWNLOAD_FAILED",
        "INPUT_FILES_DOWNLOAD_FAILED",
    )
    assert ctx.state.result_digest == sha256_hex(text.encode())


async def test_a_missing_input_file_gives_an_error_result(world: World) -> None:
    deal_id, task_id = world.task(world.app(), params={"iexec_input_files": [world.files.url + "/nope"]})
    outcome = await data_download.run(world.context(deal_id, task_id), push(task_id, Next.PLEASE_DOWNLOAD_DATA))
    assert (outcome.status, outcome.cause) == (RS.DATA_DOWNLOAD_FAILED, Cause.INPUT_FILES_DOWNLOAD_FAILED)
    assert outcome.details.errorMessage == f"404 GET {world.files.url}/nope: no such file"


# ----- how an app can end -------------------------------------------------------------------------------
WRITES_RESULT = (
    "import json, os\n"
    "open(os.environ['IEXEC_OUT'] + '/out.txt', 'w').write('partial')\n"
    "json.dump({'deterministic-output-path': '/iexec_out/out.txt'}, open(os.environ['IEXEC_OUT'] + '/computed.json', 'w'))\n"
)


@pytest.mark.parametrize(
    ("source", "status", "cause", "exit_code", "message"),
    [
        (WRITES_RESULT + "raise SystemExit(2)\n", RS.COMPUTED, None, 2, None),
        (
            "import sys\nprint('bad input', file=sys.stderr)\nsys.exit(3)\n",
            RS.COMPUTE_FAILED,
            Cause.APP_COMPUTE_FAILED,
            3,
            "app exited with code 3; no result to contribute: the app wrote no /iexec_out/computed.json",
        ),
        (
            "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
            RS.COMPUTE_FAILED,
            Cause.APP_COMPUTE_FAILED,
            137,
            "app killed by signal SIGKILL (exit 137)",
        ),
        (
            "print('forgot computed.json')\n",
            RS.COMPUTE_FAILED,
            Cause.POST_COMPUTE_COMPUTED_FILE_NOT_FOUND,
            0,
            "the app wrote no /iexec_out/computed.json",
        ),
        (
            WRITES_RESULT + "open(os.environ['IEXEC_OUT'] + '/' + 'n' * 40, 'w')\n",
            RS.COMPUTE_FAILED,
            Cause.POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME,
            0,
            "longer than 31",
        ),
    ],
)
async def test_the_apps_own_failure_is_kept_apart_from_the_platforms(
    world: World, source: str, status: RS, cause: Cause | None, exit_code: int, message: str | None
) -> None:
    deal_id, task_id = world.task(world.app(source))
    ctx = world.context(deal_id, task_id)
    await app_download.run(ctx, push(task_id, Next.PLEASE_DOWNLOAD_APP))

    outcome = await compute.run(ctx, push(task_id, Next.PLEASE_COMPUTE))

    assert (outcome.status, outcome.cause, outcome.details.exitCode) == (status, cause, exit_code)
    if message is not None:
        assert message in outcome.details.errorMessage
    if status is RS.COMPUTED:
        assert ctx.state.result_digest == sha256_hex(b"partial")
    else:
        assert ctx.state.result_digest is None


async def test_an_app_running_past_the_category_time_is_killed(world: World) -> None:
    category = world.chain.create_category(world.accounts["owner"], "T1", "one second", 1).return_value
    deal_id, task_id = world.task(world.app(WRITES_RESULT + "import time\ntime.sleep(60)\n"), category=category)
    ctx = world.context(deal_id, task_id)
    await app_download.run(ctx, push(task_id, Next.PLEASE_DOWNLOAD_APP))

    outcome = await compute.run(ctx, push(task_id, Next.PLEASE_COMPUTE))

    assert (outcome.status, outcome.cause, outcome.details.exitCode) == (
        RS.COMPUTE_FAILED,
        Cause.APP_COMPUTE_TIMEOUT,
        -1,
    )
    assert outcome.details.errorMessage == "app killed after 1 s, the time limit of category 'T1'"
    assert ctx.state.result_digest is None  # a partial output is never contributed


async def test_compute_without_a_downloaded_app_fails_on_the_worker_side(world: World) -> None:
    deal_id, task_id = world.task(world.app())
    outcome = await compute.run(world.context(deal_id, task_id), push(task_id, Next.PLEASE_COMPUTE))
    assert (outcome.status, outcome.cause) == (RS.COMPUTE_FAILED, Cause.APP_NOT_FOUND_LOCALLY)
    assert outcome.details.errorMessage.startswith("[worker]")
    assert_reported(
        reports(outcome),
        status="COMPUTE_FAILED",
        cause="APP_NOT_FOUND_LOCALLY",
        error="not in the cache",
        component="worker",
        fix="report it",
    )


# ----- preflight and chain refusals ---------------------------------------------------------------------
async def test_start_refuses_a_task_that_is_not_initialized(world: World) -> None:
    deal_id, task_id = world.task(world.app(), initialize=False)
    outcome = await start.run(world.context(deal_id, task_id), push(task_id, Next.PLEASE_START))
    assert (outcome.status, outcome.cause) == (RS.START_FAILED, Cause.TASK_NOT_ACTIVE)
    assert_reported(
        reports(outcome),
        status="START_FAILED",
        cause="TASK_NOT_ACTIVE",
        error="not ACTIVE",
        component="chain",
        fix="INITIALIZE status",
    )


async def test_start_refuses_a_worker_without_the_stake(world: World) -> None:
    deal_id, task_id = world.task(world.app())
    outcome = await start.run(world.context(deal_id, task_id, worker="poor"), push(task_id, Next.PLEASE_START))
    assert (outcome.status, outcome.cause) == (RS.START_FAILED, Cause.STAKE_TOO_LOW)
    assert "free balance 0 < worker stake 300000000" in outcome.details.errorMessage


async def test_start_refuses_result_encryption_on_a_standard_task(world: World) -> None:
    deal_id, task_id = world.task(world.app(), params={"iexec_result_encryption": True})
    outcome = await start.run(world.context(deal_id, task_id), push(task_id, Next.PLEASE_START))
    assert (outcome.status, outcome.cause) == (RS.START_FAILED, Cause.TASK_DESCRIPTION_INVALID)


async def test_start_refuses_arguments_the_app_cannot_be_given_as_the_requesters_input(world: World) -> None:
    """Issue 17.3: arguments that cannot be split are the deal's fault (origin input), refused before
    any download, not an APP_COMPUTE_FAILED blamed on the app."""
    deal_id, task_id = world.task(world.app(), params={"iexec_args": 'unbalanced "quote'})
    outcome = await start.run(world.context(deal_id, task_id), push(task_id, Next.PLEASE_START))
    assert (outcome.status, outcome.cause) == (RS.START_FAILED, Cause.TASK_DESCRIPTION_INVALID)
    assert outcome.details.errorMessage.startswith("the deal's iexec_args cannot be split shell-style")


async def test_contribute_after_the_deadline_is_refused_before_any_transaction(world: World) -> None:
    deal_id, task_id = world.task(world.app())
    ctx = world.context(deal_id, task_id)
    ctx.state.result_digest = sha256_hex(b"x")
    world.clock.advance(7 * 300 + 1)
    outcome = await contribute.run(ctx, push(task_id, Next.PLEASE_CONTRIBUTE))
    assert (outcome.status, outcome.cause) == (RS.CONTRIBUTE_FAILED, Cause.CONTRIBUTION_TIMEOUT)


async def test_a_contribution_the_chain_reverts_reports_the_rule(world: World) -> None:
    deal_id, task_id = world.task(world.app())
    ctx = world.context(deal_id, task_id, signer="stranger")  # not the workerpool owner
    ctx.state.result_digest = sha256_hex(b"x")
    outcome = await contribute.run(ctx, push(task_id, Next.PLEASE_CONTRIBUTE))
    assert (outcome.status, outcome.cause) == (RS.CONTRIBUTE_FAILED, Cause.CHAIN_RECEIPT_NOT_VALID)
    assert outcome.details.errorMessage.startswith("contribute reverted: invalid-authorization: ")
    assert_reported(
        reports(outcome),
        status="CONTRIBUTE_FAILED",
        cause="CHAIN_RECEIPT_NOT_VALID",
        error="invalid-authorization",
        component="chain",
        fix="names the rule",
    )


async def test_contribute_needs_a_result_digest(world: World) -> None:
    deal_id, task_id = world.task(world.app())
    outcome = await contribute.run(world.context(deal_id, task_id), push(task_id, Next.PLEASE_CONTRIBUTE))
    assert (outcome.status, outcome.cause) == (RS.CONTRIBUTE_FAILED, Cause.DETERMINISM_HASH_NOT_FOUND)
    assert_reported(
        reports(outcome),
        status="CONTRIBUTE_FAILED",
        cause="DETERMINISM_HASH_NOT_FOUND",
        error="no result digest",
        component="app",
        fix="computed.json",
    )


async def test_reveal_needs_the_consensus_block_and_a_matching_contribution(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reveal, "PAUSE", 0.01)
    deal_id, task_id = world.task(world.app())
    ctx = world.context(deal_id, task_id)
    ctx.state.result_digest = sha256_hex(b"x")

    missing = await reveal.run(ctx, push(task_id, Next.PLEASE_REVEAL))
    assert (missing.status, missing.cause) == (RS.REVEAL_FAILED, Cause.CONSENSUS_BLOCK_MISSING)

    block = world.chain.latest_block().number
    refused = await reveal.run(ctx, push(task_id, Next.PLEASE_REVEAL, blockNumber=block))
    assert (refused.status, refused.cause) == (RS.REVEAL_FAILED, Cause.CANNOT_REVEAL)
    assert (
        refused.details.errorMessage
        == "task is ACTIVE on chain, not REVEALING; own contribution is UNSET, not CONTRIBUTED"
    )
    said = reports(missing, refused)
    assert_reported(
        said,
        status="REVEAL_FAILED",
        cause="CONSENSUS_BLOCK_MISSING",
        error="no consensus block number",
        component="scheduler",
        fix="A scheduler fault",
    )
    assert_reported(
        said, status="REVEAL_FAILED", cause="CANNOT_REVEAL", error="not REVEALING", component="chain", fix="lost"
    )


# ----- authorizations -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("signer", "wallet", "initialize", "problem"),
    [
        ("scheduler", "worker", True, None),
        ("stranger", "worker", True, "not by the workerpool owner"),
        ("scheduler", "stranger", True, "is for wallet"),
        ("scheduler", "worker", False, "is not initialized on chain"),
    ],
)
async def test_only_an_authorization_of_the_workerpool_owner_for_this_wallet_is_trusted(
    world: World, signer: str, wallet: str, initialize: bool, problem: str | None
) -> None:
    deal_id, task_id = world.task(world.app(), initialize=initialize)
    worker = world.accounts[wallet].address
    authorization = WorkerpoolAuthorization(
        chainTaskId=task_id,
        dealId=deal_id,
        taskIndex=0,
        workerWallet=worker,
        enclaveChallenge=ZERO_ADDRESS,
        signature=Signature(value=sign_authorization(KEYS[signer], worker, task_id)),
    )
    found = await authorization_problem(authorization, world.worker.address, world.chain, world.workerpool)
    assert (found is None) if problem is None else (problem in found)


# ----- recovery after a restart -------------------------------------------------------------------------
async def test_a_computed_result_is_resumed_with_its_digest_recomputed_from_the_files(world: World) -> None:
    deal_id, task_id = world.task(
        world.app(), dataset=world.dataset(), params={"iexec_input_files": [world.files.serve("/x", b"X")]}
    )
    ctx = world.context(deal_id, task_id)
    for stage, action in (
        (app_download, Next.PLEASE_DOWNLOAD_APP),
        (data_download, Next.PLEASE_DOWNLOAD_DATA),
        (compute, Next.PLEASE_COMPUTE),
    ):
        await stage.run(ctx, push(task_id, action))
    digest = ctx.state.result_digest
    ctx.state.result_digest = None  # as if the worker died before saving it
    ctx.save()
    fresh = WorkerpoolAuthorization.model_validate(ctx.state.authorization)
    notification = push(task_id, Next.PLEASE_CONTRIBUTE, workerpoolAuthorization=fresh)

    resumed = await resumable_state(notification, ctx.paths, world.chain)
    assert resumed.state is not None and resumed.state.result_digest == digest
    # The description read to resume is the one the resumed replicate's context keeps (decision 134).
    assert resumed.description is not None and resumed.description == await ctx.description()

    ctx.paths.zip.unlink()
    lost = await resumable_state(notification, ctx.paths, world.chain)
    assert (lost.state, lost.reason) == (None, "no result archive on disk")
    complete_anyway = await resumable_state(
        push(task_id, Next.PLEASE_COMPLETE, workerpoolAuthorization=fresh), ctx.paths, world.chain
    )
    assert complete_anyway.state is not None
