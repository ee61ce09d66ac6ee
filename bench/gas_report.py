"""Gas used by the PocoLedger contract, per function and per task (trust 1 and trust 3).

    .venv/bin/python bench/gas_report.py [--node builtin|hardhat] [--markdown]

Starts an EVM node on 127.0.0.1 (the built-in py-evm one by default), deploys the production build,
runs the scenarios below and prints the gasUsed of every receipt (what the sender pays for, refunds
included). Scenarios use fresh workers (score 0) and the XS category.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from eth_account import Account

from pocopool.chain.base import DealRequest
from pocopool.chain.evm import EvmChain, Rpc
from pocopool.devnet.evm_nodes import start_builtin_node, start_hardhat_node
from pocopool.protocol import crypto

OWNER, SCHEDULER, REQUESTER, APP_OWNER = ("0x" + b * 32 for b in ("01", "a1", "c3", "0a"))
WORKERS = [f"0x{0xB0B0 + i:064x}" for i in range(1, 5)]


class Meter:
    def __init__(self, chain: EvmChain, rpc: Rpc) -> None:
        self.chain, self.rpc = chain, rpc
        self.by_function: dict[str, list[int]] = defaultdict(list)

    def gas(self, name: str, receipt) -> int:
        used = int(self.rpc.call("eth_getTransactionReceipt", receipt.tx_hash)["gasUsed"], 16)
        self.by_function[name].append(used)
        return used


def run(node_kind: str) -> tuple[Meter, dict[str, dict[str, int]]]:
    node = (start_builtin_node if node_kind == "builtin" else start_hardhat_node)()
    try:
        chain = EvmChain.deploy(node.url, OWNER)
        meter = Meter(chain, Rpc(node.url))
        owner, scheduler, requester, app_owner = (Account.from_key(k) for k in (OWNER, SCHEDULER, REQUESTER, APP_OWNER))
        workers = [Account.from_key(k) for k in WORKERS]
        for account in (scheduler, requester, *workers):
            meter.gas("mint", chain.mint(owner, account.address, 10**15))
        meter.gas("transfer", chain.transfer(requester, app_owner.address, 1))
        app = chain.create_app(app_owner, "hello", "http://127.0.0.1/hello.tar.gz", "0x" + "ab" * 32, price=10**8)
        meter.gas("createApp", app)
        pool = chain.create_workerpool(scheduler, "bench pool", price=10**9)
        meter.gas("createWorkerpool", pool)
        meter.gas("createCategory", chain.create_category(owner, "BENCH", "bench category", 60))
        tasks: dict[str, dict[str, int]] = {}

        def deal(trust: int) -> str:
            receipt = chain.create_deal(requester, DealRequest(app=app.return_value, workerpool=pool.return_value,
                                                               category=0, trust=trust, params='{"iexec_args":"x"}'))
            meter.gas("createDeal", receipt)
            return receipt.return_value

        def authorization(worker, task_id: str) -> str:
            return crypto.sign_authorization(SCHEDULER, worker.address, task_id)

        for trust, voters in ((1, 1), (3, 2)):
            cost: dict[str, int] = {}
            deal_id = deal(trust)
            cost["createDeal"] = meter.by_function["createDeal"][-1]
            initialized = chain.initialize(scheduler, deal_id, 0)
            task_id = initialized.return_value
            cost["initialize"] = meter.gas("initialize", initialized)
            digest = crypto.keccak_hex(b"hello")
            for index, worker in enumerate(workers[:voters]):
                receipt = chain.contribute(worker, task_id, crypto.result_hash(task_id, digest),
                                           crypto.result_seal(worker.address, task_id, digest), crypto.ZERO_ADDRESS,
                                           "", authorization(worker, task_id))
                name = "contribute (consensus)" if index == voters - 1 else "contribute"
                cost[f"{name} #{index + 1}"] = meter.gas(name, receipt)
            for index, worker in enumerate(workers[:voters]):
                cost[f"reveal #{index + 1}"] = meter.gas("reveal", chain.reveal(worker, task_id, digest))
            name = f"finalize ({voters} winner{'s' if voters > 1 else ''})"
            cost[name] = meter.gas(name, chain.finalize(scheduler, task_id, b'{"storage":"pocopool","location":"x"}'))
            tasks[f"trust {trust} ({voters} worker{'s' if voters > 1 else ''})"] = cost

        one_shot: dict[str, int] = {}
        deal_id = deal(1)
        one_shot["createDeal"] = meter.by_function["createDeal"][-1]
        task_id = chain.initialize(scheduler, deal_id, 0)
        one_shot["initialize"] = meter.gas("initialize", task_id)
        task_id = task_id.return_value
        receipt = chain.contribute_and_finalize(workers[0], task_id, crypto.keccak_hex(b"hello"), b"r", b"",
                                                crypto.ZERO_ADDRESS, "", authorization(workers[0], task_id))
        one_shot["contributeAndFinalize"] = meter.gas("contributeAndFinalize", receipt)
        tasks["trust 1, contributeAndFinalize"] = one_shot
        return meter, tasks
    finally:
        node.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", choices=("builtin", "hardhat"), default="builtin")
    args = parser.parse_args()
    meter, tasks = run(args.node)
    print("| function | gas used (median) | calls |\n|---|---:|---:|")
    for name, values in meter.by_function.items():
        print(f"| {name} | {int(statistics.median(values)):,} | {len(values)} |")
    for task, cost in tasks.items():
        print(f"\n**{task}**\n\n| step | gas |\n|---|---:|")
        for step, gas in cost.items():
            print(f"| {step} | {gas:,} |")
        print(f"| **total per task (deal of 1 task)** | **{sum(cost.values()):,}** |")
        print(f"| total per task without the deal | {sum(v for k, v in cost.items() if k != 'createDeal'):,} |")


if __name__ == "__main__":
    main()
