"""The devnet on an EVM chain: the built-in py-evm node and the PocoLedger contract (`--chain evm`).

Its own devnet (the other e2e files share the LocalChain one): started here, stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet_harness import HAPPY_PATH, WORKER_PATH, Devnet, run_cli
from pocopool.chain import connect
from pocopool.chain.evm import EvmChain

pytestmark = [pytest.mark.e2e, pytest.mark.evm]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def evm_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    home = tmp_path_factory.mktemp("evm-devnet")
    status = run_cli(
        "devnet", "start", "--chain", "evm", "--workers", "1", "--slots", "2", "--json", home=home, timeout=180
    ).json()
    net = Devnet(home, status)
    try:
        yield net
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def test_hello_with_trust_1_completes_on_the_evm_chain_and_its_history_explains_it(
    evm_devnet: Devnet, tmp_path: Path
) -> None:
    devnet = evm_devnet
    assert devnet.status["chain"].startswith("evm:http://127.0.0.1:")
    assert devnet.status["processes"]["evmnode"]["running"]
    app = devnet.deploy_app(REPO / "examples" / "apps" / "hello")
    run = devnet.cli("run", app, "--args", "pocopool evm", "--json").json()
    [task] = run["taskIds"]

    watched = devnet.cli("task", "show", task, "--watch", "--timeout", "150", "--json", check=False)
    assert watched.code == 0, f"{watched.stderr}\n{devnet.logs()}"
    debug = devnet.cli("task", "debug", task, "--json").json()
    assert debug["status"] == "COMPLETED" and debug["onchainStatus"] == "COMPLETED"
    assert [s["status"] for s in debug["statusHistory"]] == HAPPY_PATH
    [replicate] = debug["replicates"]
    assert [u["status"] for u in replicate["statusHistory"]] == WORKER_PATH

    downloaded = devnet.cli("task", "download", task, str(tmp_path / "out"), "--json").json()
    assert "greeting.txt" in downloaded["files"]
    assert (tmp_path / "out" / "greeting.txt").read_text() == "Hello, pocopool evm!\n"

    chain = connect(devnet.status["chain"])
    try:
        assert isinstance(chain, EvmChain)
        onchain = chain.view_task(task)
        assert onchain.status.value == "COMPLETED" and onchain.contributors == (replicate["worker"],)
        names = [event.name for event in chain.events(0)]
        assert {"SchedulerNotice", "TaskInitialize", "TaskContribute", "TaskReveal", "TaskFinalize"} <= set(names)
    finally:
        chain.close()
