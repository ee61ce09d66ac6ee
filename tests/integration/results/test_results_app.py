"""The result store's HTTP rules over an in-memory ledger (the LocalChain runs in test_results_store_http.py)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from pocopool.chain.base import NO_RESOURCE, ChainError, ChainTask, Contribution, Deal, Resource
from pocopool.protocol.crypto import ZERO_ADDRESS, address_of, new_private_key, result_link, sha256_hex
from pocopool.protocol.crypto import task_id as compute_task_id
from pocopool.protocol.digest import callback_digest, file_digest
from pocopool.protocol.statuses import ChainContributionStatus, ChainTaskStatus
from pocopool.protocol.time import VirtualClock
from pocopool.results import ResultStore, auth, create_app

DEAL = "0x" + "d1" * 32
TASK = compute_task_id(DEAL, 0)
GREETING = b"Hello, World!\n"


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


GOOD_ZIP = make_zip(
    {
        "computed.json": json.dumps({"deterministic-output-path": "/iexec_out/greeting.txt"}).encode(),
        "greeting.txt": GREETING,
    }
)


class FakeChain:
    """Just the three reads the result store makes."""

    def __init__(self) -> None:
        self.tasks: dict[str, ChainTask] = {}
        self.deals: dict[str, Deal] = {}
        self.contributions: dict[tuple[str, str], Contribution] = {}
        self.broken = False

    def view_task(self, task_id: str) -> ChainTask:
        if self.broken:
            raise ChainError("database is locked")
        return self.tasks.get(task_id.lower(), ChainTask(task_id, ChainTaskStatus.UNSET))

    def view_deal(self, deal_id: str) -> Deal | None:
        return self.deals.get(deal_id.lower())

    def view_contribution(self, task_id: str, worker: str) -> Contribution:
        return self.contributions.get((task_id.lower(), worker.lower()), Contribution())


class World:
    def __init__(self, tmp_path: Path, *, callback: str = ZERO_ADDRESS, digest: str = file_digest(GREETING)) -> None:
        self.scheduler_key, self.worker_key, self.beneficiary_key = (new_private_key() for _ in range(3))
        self.worker = address_of(self.worker_key)
        self.chain = FakeChain()
        self.chain.deals[DEAL] = Deal(
            deal_id=DEAL,
            app=Resource("0x" + "aa" * 20, ZERO_ADDRESS, 0),
            dataset=NO_RESOURCE,
            workerpool=Resource("0x" + "bb" * 20, address_of(self.scheduler_key), 0),
            trust=1,
            category=0,
            tag="0x" + "00" * 32,
            requester=address_of(self.beneficiary_key),
            beneficiary=address_of(self.beneficiary_key),
            callback=callback,
            params="",
            start_time=0,
            bot_first=0,
            bot_size=1,
            worker_stake=0,
            scheduler_reward_ratio=1,
            sponsor=ZERO_ADDRESS,
        )
        self.chain.tasks[TASK] = ChainTask(TASK, ChainTaskStatus.REVEALING, deal_id=DEAL, result_digest=digest)
        self.chain.contributions[(TASK, self.worker.lower())] = Contribution(ChainContributionStatus.PROVED)
        self.clock = VirtualClock(1_700_000_000)
        self.store = ResultStore(tmp_path / "results")
        self.app = create_app(
            self.chain,
            self.store,
            "http://results.test/",
            clock=self.clock,
            max_upload_bytes=64 * 1024,  # type: ignore[arg-type]
        )

    def upload_headers(self, body: bytes, task: str = TASK) -> dict[str, str]:
        authorization = auth.sign_upload_authorization(self.scheduler_key, self.worker, task)
        return auth.upload_headers(self.worker_key, self.worker, task, body, authorization)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://results.test")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


async def test_health(world: World) -> None:
    async with world.client() as client:
        assert (await client.get("/health")).json() == {"status": "ok"}


async def test_a_good_upload_answers_the_result_link_and_the_sha256(world: World) -> None:
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=GOOD_ZIP, headers=world.upload_headers(GOOD_ZIP))
        assert response.status_code == 201, response.text
        assert response.json() == {
            "resultLink": result_link("pocopool", f"http://results.test/results/{TASK}"),
            "sha256": sha256_hex(GOOD_ZIP),
        }
        head = await client.head(f"/results/{TASK}")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(GOOD_ZIP))
        signed = auth.download_headers(world.beneficiary_key, TASK, 1_700_000_000)
        download = await client.get(f"/results/{TASK}", headers=signed)
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/zip"
        assert download.content == GOOD_ZIP


async def test_an_uppercase_task_id_names_the_same_result(world: World) -> None:
    async with world.client() as client:
        upper = "0x" + TASK[2:].upper()
        response = await client.put(f"/results/{upper}", content=GOOD_ZIP, headers=world.upload_headers(GOOD_ZIP))
        assert response.status_code == 201, response.text
        assert (await client.head(f"/results/{TASK}")).status_code == 200


UPLOAD_HEADERS = [auth.WORKER_HEADER, auth.WORKER_SIGNATURE_HEADER, auth.UPLOAD_AUTHORIZATION_HEADER]


@pytest.mark.parametrize("missing", UPLOAD_HEADERS)
async def test_a_missing_upload_header_is_401(world: World, missing: str) -> None:
    headers = world.upload_headers(GOOD_ZIP)
    del headers[missing]
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=GOOD_ZIP, headers=headers)
    assert response.status_code == 401
    assert missing in response.json()["error"]
    assert not world.store.exists(TASK)


@pytest.mark.parametrize(
    "header, value",
    [
        (auth.WORKER_HEADER, "0x1234"),
        (auth.WORKER_SIGNATURE_HEADER, "not hex"),
        (auth.UPLOAD_AUTHORIZATION_HEADER, "0x" + "12" * 64),
    ],
)
async def test_a_malformed_upload_header_is_400(world: World, header: str, value: str) -> None:
    headers = {**world.upload_headers(GOOD_ZIP), header: value}
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=GOOD_ZIP, headers=headers)
    assert response.status_code == 400
    assert header in response.json()["error"]
    assert not world.store.exists(TASK)


async def test_an_unreadable_authorization_signature_is_401(world: World) -> None:
    headers = {**world.upload_headers(GOOD_ZIP), auth.UPLOAD_AUTHORIZATION_HEADER: "0x" + "00" * 65}
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=GOOD_ZIP, headers=headers)
    assert response.status_code == 401
    assert not world.store.exists(TASK)


async def test_a_body_over_the_limit_is_413(world: World) -> None:
    big = b"x" * (64 * 1024 + 1)
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=big, headers=world.upload_headers(big))
        assert response.status_code == 413

        async def chunks():  # no Content-Length: the limit applies while reading
            for _ in range(3):
                yield b"x" * 30_000

        response = await client.put(f"/results/{TASK}", content=chunks(), headers=world.upload_headers(b""))
        assert response.status_code == 413
    assert not world.store.exists(TASK)


async def test_a_task_of_an_unknown_deal_is_404(world: World) -> None:
    other = compute_task_id("0x" + "e2" * 32, 0)
    world.chain.tasks[other] = ChainTask(other, ChainTaskStatus.REVEALING, deal_id="0x" + "e2" * 32)
    async with world.client() as client:
        headers = world.upload_headers(GOOD_ZIP, other)
        response = await client.put(f"/results/{other}", content=GOOD_ZIP, headers=headers)
    assert response.status_code == 404


async def test_a_chain_that_cannot_be_read_is_503_and_stores_nothing(world: World) -> None:
    world.chain.broken = True
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=GOOD_ZIP, headers=world.upload_headers(GOOD_ZIP))
    assert response.status_code == 503
    assert "chain" in response.json()["error"]
    assert not world.store.exists(TASK)


async def test_a_refused_contribution_status_is_403(world: World) -> None:
    world.chain.contributions[(TASK, world.worker.lower())] = Contribution(ChainContributionStatus.CONTRIBUTED)
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=GOOD_ZIP, headers=world.upload_headers(GOOD_ZIP))
    assert response.status_code == 403
    assert "CONTRIBUTED" in response.json()["error"]


async def test_a_deterministic_path_missing_from_the_zip_is_422(world: World) -> None:
    body = make_zip({"computed.json": json.dumps({"deterministic-output-path": "/iexec_out/nothing.txt"}).encode()})
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=body, headers=world.upload_headers(body))
    assert response.status_code == 422
    assert "/iexec_out/nothing.txt is not in the zip" in response.json()["error"]
    assert not world.store.exists(TASK)


async def test_a_callback_deal_checks_keccak_of_the_callback_data(tmp_path: Path) -> None:
    world = World(tmp_path, callback="0x" + "ca" * 20, digest=callback_digest("0xbeef"))
    computed = {"deterministic-output-path": "/iexec_out", "callback-data": "0xbeef"}
    body = make_zip({"computed.json": json.dumps(computed).encode()})
    async with world.client() as client:
        response = await client.put(f"/results/{TASK}", content=body, headers=world.upload_headers(body))
    assert response.status_code == 201, response.text


async def test_a_download_needs_fresh_beneficiary_headers(world: World) -> None:
    world.store.save(TASK, GOOD_ZIP)
    async with world.client() as client:
        assert (await client.get(f"/results/{TASK}")).status_code == 401
        bad = {auth.DOWNLOAD_TIMESTAMP_HEADER: "yesterday", auth.DOWNLOAD_SIGNATURE_HEADER: "0x" + "11" * 65}
        assert (await client.get(f"/results/{TASK}", headers=bad)).status_code == 400
        future = auth.download_headers(world.beneficiary_key, TASK, 1_700_000_000 + 301)
        assert (await client.get(f"/results/{TASK}", headers=future)).status_code == 401
        world.clock.advance(300)
        late = auth.download_headers(world.beneficiary_key, TASK, 1_700_000_000)
        assert (await client.get(f"/results/{TASK}", headers=late)).status_code == 200
        world.clock.advance(1)
        assert (await client.get(f"/results/{TASK}", headers=late)).status_code == 401


async def test_a_download_of_a_result_not_stored_is_404(world: World) -> None:
    async with world.client() as client:
        headers = auth.download_headers(world.beneficiary_key, TASK, 1_700_000_000)
        response = await client.get(f"/results/{TASK}", headers=headers)
    assert response.status_code == 404
    assert "no result is stored" in response.json()["error"]


async def test_unknown_paths_answer_json_errors(world: World) -> None:
    async with world.client() as client:
        response = await client.get("/nothing-here")
    assert response.status_code == 404
    assert "error" in response.json()
