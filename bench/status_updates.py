"""status-updates: simulated workers (no compute) hammering the scheduler API with valid status sequences.

python bench/status_updates.py [--db sqlite|postgres] [--tasks 300] [--workers 10] [--concurrency 32]
                               [--history TASKS]
Starts a real scheduler process on a real LocalChain and database, logs K simulated workers in,
takes one replicate per task, then sends each replicate's status sequence (STARTING … CONTRIBUTING:
nine updates that need no chain transaction) with C requests in flight. Reports accepted updates/s
and p50/p99 latency. With --history N the store first gets N finished tasks (full histories) and
1,000 registered workers, to see whether the cost per update grows with history.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from common import emit, percentile, process_cpu_seconds, remove, scratch  # noqa: E402
from eth_account import Account  # noqa: E402

from pocopool.chain.base import DealRequest  # noqa: E402
from pocopool.chain.local import LocalChain  # noqa: E402
from pocopool.devnet.processes import free_port  # noqa: E402
from pocopool.protocol import crypto  # noqa: E402

SEQUENCE = ["STARTING", "STARTED", "APP_DOWNLOADING", "APP_DOWNLOADED", "DATA_DOWNLOADING", "DATA_DOWNLOADED",
            "COMPUTING", "COMPUTED", "CONTRIBUTING"]
POSTGRES_SERVER = os.environ.get("POCOPOOL_BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432")


async def create_postgres_database() -> tuple[str, str]:
    import asyncpg

    name = f"pocopool_bench_{uuid.uuid4().hex[:10]}"
    raw = POSTGRES_SERVER.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(raw + "/postgres")
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return f"{POSTGRES_SERVER}/{name}", name


async def drop_postgres_database(name: str) -> None:
    import asyncpg

    raw = POSTGRES_SERVER.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(raw + "/postgres")
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


async def seed_history(db_url: str, tasks: int, workers: int) -> float:
    """Writes `tasks` COMPLETED tasks with full histories and `workers` workers straight into the store."""
    from sqlalchemy import insert

    from pocopool.scheduler.store import tables
    from pocopool.service.database import open_database

    database = open_database(db_url, tables.schema)
    await database.migrate()
    started = time.perf_counter()
    now = datetime.now(UTC) - timedelta(days=30)
    task_statuses = ["RECEIVED", "INITIALIZING", "INITIALIZED", "RUNNING", "CONSENSUS_REACHED", "AT_LEAST_ONE_REVEALED",
                     "RESULT_UPLOADING", "RESULT_UPLOADED", "FINALIZING", "FINALIZED", "COMPLETED"]
    replicate_statuses = ["CREATED", *SEQUENCE, "CONTRIBUTED", "REVEALING", "REVEALED", "RESULT_UPLOAD_REQUESTED",
                          "RESULT_UPLOADING", "RESULT_UPLOADED", "COMPLETING", "COMPLETED"]
    wallets = [Account.create().address for _ in range(workers)]
    async with database.write() as connection:
        await connection.execute(insert(tables.workers), [
            {"wallet": w, "name": f"old-{i}", "os": "Linux", "cpu": "x86_64", "cpu_nb": 4, "memory_size": 8,
             "max_nb_tasks": 4, "gpu_enabled": False, "tee_enabled": False, "tdx_enabled": False,
             "last_alive": now, "last_replicate_demand": now, "registered_at": now, "updated_at": now}
            for i, w in enumerate(wallets)])
    batch = 2000
    replicate_id = 0
    for first in range(0, tasks, batch):
        ids = [crypto.keccak_hex(f"history-{i}".encode()) for i in range(first, min(first + batch, tasks))]
        task_rows, change_rows, replicate_rows, update_rows = [], [], [], []
        for offset, task_id in enumerate(ids):
            task_rows.append({
                "chain_task_id": task_id, "deal_id": crypto.keccak_hex(b"history-deal"), "task_index": first + offset,
                "deal_block": 1, "status": "COMPLETED", "status_date": now, "trust": 1, "tag": crypto.ZERO_BYTES32,
                "category": 0, "max_execution_time": 300, "app_address": crypto.ZERO_ADDRESS, "app_multiaddr": "http://x",
                "command_line": "", "requester": crypto.ZERO_ADDRESS, "beneficiary": crypto.ZERO_ADDRESS,
                "callback": crypto.ZERO_ADDRESS, "contribution_deadline": now, "final_deadline": now,
                "created_at": now, "updated_at": now})
            change_rows += [{"task_id": task_id, "status": s, "date": now} for s in task_statuses]
            replicate_id += 1
            replicate_rows.append({"id": replicate_id, "task_id": task_id, "wallet": wallets[(first + offset) % workers],
                                   "status": "COMPLETED", "last_relevant_status": "COMPLETED", "worker_weight": 2,
                                   "created_at": now, "updated_at": now})
            update_rows += [{"replicate_id": replicate_id, "status": s, "modifier": "WORKER", "date": now}
                            for s in replicate_statuses]
        async with database.write() as connection:
            await connection.execute(insert(tables.tasks), task_rows)
            await connection.execute(insert(tables.task_status_changes), change_rows)
            await connection.execute(insert(tables.replicates), replicate_rows)
            await connection.execute(insert(tables.replicate_status_updates), update_rows)
    await database.dispose()
    return time.perf_counter() - started


class SimWorker:
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.account = Account.create()
        self.client, self.url, self.token = client, url, ""
        self.tasks: list[str] = []

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def login(self) -> None:
        wallet = self.account.address
        challenge = (await self.client.get(f"{self.url}/workers/challenge", params={"walletAddress": wallet})).text
        signature = crypto.sign_login(crypto.key_hex(self.account), challenge)
        answer = await self.client.post(f"{self.url}/workers/login", params={"walletAddress": wallet}, json={"value": signature})
        answer.raise_for_status()
        self.token = answer.text.strip('"')
        (await self.client.post(f"{self.url}/workers/register", headers=self.headers,
                                json={"name": "sim", "cpuNb": 1000})).raise_for_status()

    async def take(self, wanted: int) -> None:
        idle = 0
        while len(self.tasks) < wanted and idle < 50:
            answer = await self.client.get(f"{self.url}/replicates/available", params={"blockNumber": 1}, headers=self.headers)
            if answer.status_code == 200:
                self.tasks.append(answer.json()["workerpoolAuthorization"]["chainTaskId"])
                idle = 0
            else:
                idle += 1
                await asyncio.sleep(0.02)


class LeanClient:
    """Keep-alive HTTP/1.1 connections over asyncio streams, `size` of them, for the measured phase.

    httpx spent 2.6 ms of CPU per request here, more than the scheduler itself, on the same two
    cores: the benchmark measured its client as much as the scheduler. This client writes a
    prepared request and reads the status line, the headers and Content-Length bytes back.
    """

    def __init__(self, url: str, size: int) -> None:
        address = url.split("://", 1)[1]
        self.host, port = address.rsplit(":", 1)
        self.port, self.size = int(port), size
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()

    async def post(self, path: str, token: str, body: bytes) -> tuple[int, float]:
        """(HTTP status, seconds from sending to the whole answer): the wait for a free connection
        is the client's queue, not the scheduler's latency, and is left out."""
        reader, writer = await self.idle.get()
        sent = time.perf_counter()
        try:
            writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            return status, time.perf_counter() - sent
        finally:
            self.idle.put_nowait((reader, writer))


async def measure(url: str, workers: list[SimWorker], concurrency: int, scheduler_pid: int) -> dict[str, Any]:
    jobs = [(w, t) for w in workers for t in w.tasks]
    latencies: list[float] = []
    accepted = refused = 0
    client = LeanClient(url, concurrency)
    await client.open()
    bodies = {status: json.dumps({"status": status}).encode() for status in SEQUENCE}

    async def replay(worker: SimWorker, task: str) -> None:
        nonlocal accepted, refused
        for status in SEQUENCE:
            code, latency = await client.post(f"/replicates/{task}/updateStatus", worker.token, bodies[status])
            latencies.append(latency)
            if code == 200:
                accepted += 1
            else:
                refused += 1

    cpu = process_cpu_seconds(scheduler_pid)
    client_cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(replay(w, t) for w, t in jobs))
    elapsed = time.perf_counter() - started
    cpu = process_cpu_seconds(scheduler_pid) - cpu
    client_cpu = time.process_time() - client_cpu
    await client.close()
    return {"accepted": accepted, "refused": refused, "seconds": elapsed, "updatesPerSecond": accepted / elapsed,
            "schedulerCpuMsPerUpdate": cpu * 1000 / max(accepted + refused, 1),
            "clientCpuMsPerUpdate": client_cpu * 1000 / max(accepted + refused, 1),
            "latencyP50Ms": percentile(latencies, 0.5) * 1000, "latencyP99Ms": percentile(latencies, 0.99) * 1000}


async def run(db: str, tasks: int, worker_count: int, concurrency: int, history: int) -> dict[str, Any]:
    work = scratch("updates")
    pg_name = None
    scheduler = None
    try:
        db_url = f"sqlite:///{work / 'scheduler.db'}"
        if db == "postgres":
            db_url, pg_name = await create_postgres_database()
        seeded = await seed_history(db_url, history, 1000) if history else 0.0
        owner, sched, requester = Account.create(), Account.create(), Account.create()
        chain = LocalChain.create(work / "chain.db", owner.address, chain_id=65535)
        chain.mint(owner, sched.address, 10**18)
        chain.mint(owner, requester.address, 10**18)
        pool = chain.create_workerpool(sched, "bench", price=10**8).return_value
        app = chain.create_app(owner, "noop", "http://127.0.0.1:1/noop.tar.gz", crypto.ZERO_BYTES32).return_value
        key_file = work / "scheduler.key"
        key_file.write_text(crypto.key_hex(sched))
        port = free_port()
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "pocopool.scheduler", "--chain", f"local:{work / 'chain.db'}", "--key-file", str(key_file),
             "--workerpool", pool, "--db", db_url, "--port", str(port), "--results-url", "http://127.0.0.1:1",
             "--ask-period-ms", "0", "--poll-interval", "0.05", "--detector-period", "1.0"],
            stdout=open(work / "scheduler.log", "wb"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            for _ in range(600):
                try:
                    if (await client.get(f"{url}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if scheduler.poll() is not None:
                    raise SystemExit((work / "scheduler.log").read_text()[-2000:])
                await asyncio.sleep(0.1)
            deal = chain.create_deal(requester, DealRequest(app=app, workerpool=pool, category=4, volume=tasks)).return_value
            for _ in range(600):
                answer = await client.get(f"{url}/deals/{deal}")
                if answer.status_code == 200 and sum(t["currentStatus"] == "INITIALIZED" for t in answer.json()["tasks"]) == tasks:
                    break
                await asyncio.sleep(0.1)
            workers = [SimWorker(client, url) for _ in range(worker_count)]
            await asyncio.gather(*(w.login() for w in workers))
            share = tasks // worker_count
            await asyncio.gather(*(w.take(share) for w in workers))
            figures = await measure(url, workers, concurrency, scheduler.pid)
        chain.close()
        return {**figures, "seedSeconds": round(seeded, 1)}
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(30)
        if pg_name:
            await drop_postgres_database(pg_name)
        remove(work)


# Issue 14: at 32 requests in flight, ≥ 1,500 accepted updates/s with p99 < 50 ms on SQLite; ≥ 1,000/s on PostgreSQL.
TARGETS = {"sqlite": {"updatesPerSecond": 1500, "latencyP99Ms": 50}, "postgres": {"updatesPerSecond": 1000}}

def rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--history", type=int, default=0, help="finished tasks to seed the store with first")
    args = parser.parse_args()
    figures = asyncio.run(run(args.db, args.tasks, args.workers, args.concurrency, args.history))
    emit("status-updates", db=args.db, tasks=args.tasks, workers=args.workers, concurrency=args.concurrency,
         history=args.history, **rounded(figures), target=TARGETS[args.db])


if __name__ == "__main__":
    main()
