"""What a devnet home's `devnet.json` says: where every service listens, which process runs it, the
keys, the ledger and the workerpool.

`DevnetState` is the typed view; `from_json`/`to_json` read and write the file's own camelCase keys,
which are stable (scripts and tests read the file, `pocopool devnet status --json` shows part of it).
A key that has no value yet (a worker not started, a failed start) is left out, as it always was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "devnet.json"


class DevnetError(Exception):
    """The devnet cannot do what was asked; the message says why and where to look."""


class DevnetOptionError(DevnetError):
    """An option of `devnet start` that cannot work, refused before anything is created or started."""


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass
class ProcessEntry:
    """One background service (files, results, scheduler, evmnode): its pid, log and command line.
    `health` is the URL that answers 200 once it is ready; the EVM node has its JSON-RPC `url` instead."""

    pid: int | None
    log: str
    argv: list[str] = field(default_factory=list)
    health: str | None = None
    url: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcessEntry:
        return cls(
            pid=data.get("pid"),
            log=data.get("log", ""),
            argv=list(data.get("argv", [])),
            health=data.get("health"),
            url=data.get("url"),
        )

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {"pid": self.pid, "log": self.log, "url": self.url, "argv": self.argv, "health": self.health}
        )


@dataclass
class WorkerEntry:
    """One worker: its wallet, key and work directory, and once started its pid, log, faults and the
    command line it was started with (without its faults: a restart chooses them again)."""

    name: str
    wallet: str
    key_file: str
    workdir: str
    pid: int | None = None
    log: str | None = None
    faults: list[str] | None = None
    argv: list[str] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerEntry:
        return cls(
            name=data["name"],
            wallet=data["wallet"],
            key_file=data["keyFile"],
            workdir=data["workdir"],
            pid=data.get("pid"),
            log=data.get("log"),
            faults=data.get("faults"),
            argv=data.get("argv"),
        )

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "name": self.name,
                "wallet": self.wallet,
                "keyFile": self.key_file,
                "workdir": self.workdir,
                "pid": self.pid,
                "log": self.log,
                "faults": self.faults,
                "argv": self.argv,
            }
        )


@dataclass
class Keys:
    """The key files of the ledger owner, the scheduler (workerpool owner) and the requester."""

    owner: str
    scheduler: str
    requester: str

    def to_json(self) -> dict[str, str]:
        return {"owner": self.owner, "scheduler": self.scheduler, "requester": self.requester}


@dataclass
class DevnetState:
    """A devnet home: its ledger (`chain` URL), accounts, categories and workers, then, once started,
    its services and processes. `evm_journal` is set when the built-in EVM node keeps the chain."""

    home: str
    chain: str
    chain_id: int
    workerpool: str
    owner: str
    scheduler_wallet: str
    requester: str
    keys: Keys
    categories: dict[str, int] = field(default_factory=dict)
    workers: list[WorkerEntry] = field(default_factory=list)
    evm_journal: str | None = None
    database: str | None = None
    runtime: str | None = None
    processes: dict[str, ProcessEntry] = field(default_factory=dict)
    faults: list[str] | None = None
    files: str | None = None
    results: str | None = None
    scheduler: str | None = None
    sms: str | None = None  # the SMS of confidential tasks (docs/tee.md)
    started_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DevnetState:
        keys = data["keys"]
        return cls(
            home=data["home"],
            chain=data["chain"],
            chain_id=data["chainId"],
            workerpool=data["workerpool"],
            owner=data["owner"],
            scheduler_wallet=data["schedulerWallet"],
            requester=data["requester"],
            keys=Keys(keys["owner"], keys["scheduler"], keys["requester"]),
            categories=dict(data.get("categories", {})),
            workers=[WorkerEntry.from_json(w) for w in data.get("workers", [])],
            evm_journal=data.get("evmJournal"),
            database=data.get("database"),
            runtime=data.get("runtime"),
            processes={name: ProcessEntry.from_json(p) for name, p in data.get("processes", {}).items()},
            faults=data.get("faults"),
            files=data.get("files"),
            results=data.get("results"),
            scheduler=data.get("scheduler"),
            sms=data.get("sms"),
            started_at=data.get("startedAt"),
        )

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "home": self.home,
                "chain": self.chain,
                "chainId": self.chain_id,
                "workerpool": self.workerpool,
                "owner": self.owner,
                "schedulerWallet": self.scheduler_wallet,
                "requester": self.requester,
                "keys": self.keys.to_json(),
                "categories": dict(self.categories),
                "workers": [w.to_json() for w in self.workers],
                "evmJournal": self.evm_journal,
                "database": self.database,
                "runtime": self.runtime,
                "processes": {name: p.to_json() for name, p in self.processes.items()},
                "faults": self.faults,
                "files": self.files,
                "results": self.results,
                "scheduler": self.scheduler,
                "sms": self.sms,
                "startedAt": self.started_at,
            }
        )


def load_state(home: Path) -> DevnetState:
    """The state of the devnet in `home`; DevnetError if there is none or it cannot be read."""
    path = home / STATE_FILE
    if not path.is_file():
        raise DevnetError(f"no devnet in {home}: start one with `pocopool devnet start --home {home}`")
    try:
        return DevnetState.from_json(json.loads(path.read_text()))
    except json.JSONDecodeError as error:
        raise DevnetError(f"{path} is not valid JSON ({error}); remove the folder and start again") from error
    except (KeyError, TypeError, AttributeError) as error:
        raise DevnetError(
            f"{path} is not a devnet state (missing {error}); remove the folder and start again"
        ) from error


def previous_state(home: Path) -> DevnetState | None:
    """The state a previous start left in `home`, if any (a start reuses its ledger and workerpool)."""
    return load_state(home) if (home / STATE_FILE).is_file() else None


def save_state(home: Path, state: DevnetState) -> None:
    """Writes `state` to HOME/devnet.json atomically (a reader never sees half a file)."""
    path = home / STATE_FILE
    temporary = path.with_suffix(".json.part")
    temporary.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    temporary.replace(path)
