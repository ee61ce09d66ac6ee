"""Several threads and processes writing to one LocalChain file lose no update."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from eth_account import Account

from pocopool.chain import DealRequest, LocalChain
from pocopool.protocol import crypto
from pocopool.protocol.time import VirtualClock

START = 1_000_000
OWNER_KEY = "0x" + "01" * 32
SCHEDULER_KEY = "0x" + "a1" * 32
SINK = Account.from_key("0x" + "5e" * 32).address
TRANSFERS = 120  # per process
CONTRIBUTIONS = 20  # per process
FUNDS = 10_000


def sender_key(process: int) -> str:
    return f"0x{0xD00D + process:064x}"


def worker_key(process: int, index: int) -> str:
    return f"0x{0xF00D0000 + process * 1000 + index:064x}"


def run_client(path: str, process: int, task_id: str, start: threading.Barrier) -> None:
    """One process: transfers to the sink, and now and then a contribution of one of its own workers.

    Signing the authorization here, outside any transaction, leaves the other process room to write.
    """
    chain = LocalChain(path, VirtualClock(START))
    sender = Account.from_key(sender_key(process))
    workers = [Account.from_key(worker_key(process, i)) for i in range(CONTRIBUTIONS)]
    every = TRANSFERS // CONTRIBUTIONS
    start.wait(timeout=60)
    for i in range(TRANSFERS):
        chain.transfer(sender, SINK, 1)
        if i % every == 0:
            worker = workers[i // every]
            authorization = crypto.sign_authorization(SCHEDULER_KEY, worker.address, task_id)
            vote = crypto.keccak_hex(worker.address.encode())  # every vote differs: no consensus, ever
            chain.contribute(worker, task_id, vote, vote, crypto.ZERO_ADDRESS, "", authorization)
    chain.close()


def test_two_processes_writing_at_once_lose_no_update(tmp_path: Path):
    path = tmp_path / "chain.db"
    owner, scheduler = Account.from_key(OWNER_KEY), Account.from_key(SCHEDULER_KEY)
    chain = LocalChain.create(path, owner.address, clock=VirtualClock(START))
    for process in (0, 1):
        chain.mint(owner, Account.from_key(sender_key(process)).address, FUNDS)
    app = chain.create_app(owner, "app", "http://x", "0x" + "00" * 32).return_value
    pool = chain.create_workerpool(scheduler, "pool").return_value  # price 0: workers need no stake
    deal_id = chain.create_deal(owner, DealRequest(app=app, workerpool=pool, category=4, trust=3)).return_value
    task_id = chain.initialize(scheduler, deal_id, 0).return_value
    setup_blocks = chain.latest_block().number

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)  # both processes ready (imports done, file open) before either writes
    clients = []
    for process in (0, 1):
        clients.append(context.Process(target=run_client, args=(str(path), process, task_id, start)))
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=120)
        assert client.exitcode == 0

    assert chain.view_account(SINK).balance == 2 * TRANSFERS
    for process in (0, 1):
        assert chain.view_account(Account.from_key(sender_key(process)).address).balance == FUNDS - TRANSFERS
    task = chain.view_task(task_id)
    assert sorted(task.contributors) == sorted(
        Account.from_key(worker_key(p, i)).address for p in (0, 1) for i in range(CONTRIBUTIONS)
    )
    assert chain._consensus_for_tests(task_id)[1] == 1 + 2 * 2 * CONTRIBUTIONS
    assert chain.latest_block().number == setup_blocks + 2 * (TRANSFERS + CONTRIBUTIONS)
    blocks = [e.block_number for e in chain.events(setup_blocks + 1, None, ("Transfer",))]
    assert blocks == sorted(blocks)
    chain.close()


def test_threads_sharing_one_chain_object_lose_no_update(tmp_path: Path):
    owner = Account.from_key(OWNER_KEY)
    chain = LocalChain.create(tmp_path / "chain.db", owner.address, clock=VirtualClock(START))
    senders = [Account.from_key(sender_key(i)) for i in range(4)]
    for sender in senders:
        chain.mint(owner, sender.address, FUNDS)

    def send(sender) -> None:
        for _ in range(50):
            chain.transfer(sender, SINK, 2)

    threads = [threading.Thread(target=send, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert chain.view_account(SINK).balance == 4 * 50 * 2
    assert chain.latest_block().number == len(senders) + len(senders) * 50  # mints, then transfers
    chain.close()
