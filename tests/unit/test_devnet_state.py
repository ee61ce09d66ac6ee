"""devnet.json through DevnetState: the file's keys are stable, so reading and writing it changes nothing."""

from __future__ import annotations

import copy

from pocopool.devnet.restart import process_names
from pocopool.devnet.state import DevnetState

STARTED_ON_EVM = {
    "home": "/tmp/net",
    "chain": "evm:http://127.0.0.1:4242#0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "chainId": 65535,
    "workerpool": "0x00000000000000000000000000000000000000aa",
    "owner": "0x00000000000000000000000000000000000000o1",
    "schedulerWallet": "0x0000000000000000000000000000000000000s01",
    "requester": "0x00000000000000000000000000000000000000r1",
    "keys": {
        "owner": "/tmp/net/keys/owner.key",
        "scheduler": "/tmp/net/keys/scheduler.key",
        "requester": "/tmp/net/keys/requester.key",
    },
    "categories": {"DEVNET-5S": 5, "DEVNET-30S": 6},
    "workers": [
        {
            "name": "worker-0",
            "wallet": "0x00000000000000000000000000000000000000w0",
            "keyFile": "/tmp/net/keys/worker-0.key",
            "workdir": "/tmp/net/workers/0",
            "pid": 123,
            "log": "/tmp/net/logs/worker-0.log",
            "faults": ["wrong-result"],
            "argv": ["python", "-m", "pocopool.worker"],
        }
    ],
    "evmJournal": "/tmp/net/evmnode/chain.jsonl",
    "database": "sqlite:////tmp/net/scheduler.db",
    "runtime": "process",
    "processes": {
        "evmnode": {
            "pid": 100,
            "log": "/tmp/net/logs/evmnode.log",
            "url": "http://127.0.0.1:4242",
            "argv": ["python", "-m", "pocopool.devnet.evmnode"],
        },
        "scheduler": {
            "pid": 101,
            "log": "/tmp/net/logs/scheduler.log",
            "argv": ["python", "-m", "pocopool.scheduler"],
            "health": "http://127.0.0.1:4243/health",
        },
    },
    "faults": ["0:wrong-result"],
    "files": "http://127.0.0.1:4244",
    "results": "http://127.0.0.1:4245",
    "scheduler": "http://127.0.0.1:4243",
    "startedAt": "2026-01-01T00:00:00Z",
}


def test_a_started_devnet_reads_and_writes_back_the_same_keys_and_values():
    state = DevnetState.from_json(copy.deepcopy(STARTED_ON_EVM))
    assert state.processes["evmnode"].url == "http://127.0.0.1:4242"
    assert state.workers[0].key_file == "/tmp/net/keys/worker-0.key"
    assert state.to_json() == STARTED_ON_EVM
    assert list(state.to_json()) == list(STARTED_ON_EVM)  # same key order as the file always had


def test_a_stopped_devnet_leaves_out_the_pids_and_the_keys_it_never_had():
    stopped = copy.deepcopy(STARTED_ON_EVM)
    del stopped["workers"][0]["pid"], stopped["evmJournal"], stopped["startedAt"]
    stopped["processes"] = {}
    state = DevnetState.from_json(copy.deepcopy(stopped))
    assert state.workers[0].pid is None and state.evm_journal is None and state.started_at is None
    assert state.to_json() == stopped


def test_a_workers_own_node_is_started_again_right_after_the_devnets_node():
    data = copy.deepcopy(STARTED_ON_EVM)
    data["processes"]["evmnode-worker-0"] = {  # devnet/followers.py: worker-0 reads its own node
        "pid": 102,
        "log": "/tmp/net/logs/evmnode-worker-0.log",
        "url": "http://127.0.0.1:4246",
        "argv": ["python", "-m", "pocopool.devnet.evmnode", "--follow", "http://127.0.0.1:4242"],
    }
    state = DevnetState.from_json(data)
    assert process_names(state) == ["evmnode", "evmnode-worker-0", "scheduler", "worker-0"]
    assert state.to_json() == data
