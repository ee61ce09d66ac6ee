"""Fixtures of the SMS tests; what they share is in sms_world.py."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from sms_world import RESULT_PROXY, Sms, World, _free_port, _pg

from pocopool.chain.local import LocalChain
from pocopool.devnet.tee import pinned_programs
from pocopool.protocol.time import SystemClock


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sms-home') / 'sms.db'}"
        return
    name = f"pocopool_sms_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - the set-up runs PostgreSQL: missing is a failure
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 does not answer ({type(error).__name__}: {error})")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("sms-chain") / "chain.db"
    owner = Account.create()
    chain = LocalChain.create(path, owner.address, chain_id=65535, clock=SystemClock())
    world = World(path, chain, owner=owner).setup()
    yield world
    chain.close()


@pytest.fixture(scope="module")
def sms(world: World, db_url: str) -> Iterator[Sms]:
    home = Path(db_url[len("sqlite:///") :]).parent if db_url.startswith("sqlite") else world.path.parent / "pg-home"
    port = _free_port()
    log_path = world.path.parent / f"sms-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pocopool.sms",
            "--chain",
            f"local:{world.path}",
            "--home",
            str(home),
            "--db",
            db_url,
            "--port",
            str(port),
            "--result-proxy",
            RESULT_PROXY,
            "--trust-platform",
            world.platform.address,
            *pinned_programs(),
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=15) as http:
            for _ in range(300):
                if process.poll() is not None:
                    raise AssertionError(f"the SMS exited: {log_path.read_text()}")
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            else:
                raise AssertionError("the SMS did not answer /health")
            yield Sms(url, home, db_url, world, http, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        log_file.close()
        assert process.returncode == 0, log_path.read_text()
