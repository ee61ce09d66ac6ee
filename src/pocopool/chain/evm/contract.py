"""The PocoLedger contract: compiled from contracts/PocoLedger.vy by the `vyper` package, cached by source hash.

`compiled(test_build)` returns the ABI and the deployment bytecode. The test build differs by one
constant (TEST_HOOKS = True), which enables the owner-only `setScoreForTests` hook; the production
build keeps the function but it always reverts. Compilation takes a second or two; the result is
cached in `$POCOPOOL_CACHE_DIR` (default `~/.cache/pocopool/contracts`) under the keccak of the
source it was compiled from (the compiler version is part of the key), so a changed source is
always recompiled.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...protocol.crypto import keccak

SOURCE_PATH = Path(__file__).parent.parent / "contracts" / "PocoLedger.vy"
TEST_HOOKS_OFF = "TEST_HOOKS: constant(bool) = False"
TEST_HOOKS_ON = "TEST_HOOKS: constant(bool) = True"
# Vyper cannot name an event field `from`; the ABI is patched so that Transfer reads as in spec §17.
# (Names are not part of the event topic: Transfer(address,address,uint256) is unchanged.)
ABI_RENAMES = {"Transfer": {"sender": "from", "receiver": "to"}}

_lock = threading.Lock()
_memo: dict[bool, CompiledContract] = {}


@dataclass(frozen=True)
class CompiledContract:
    abi: list[dict[str, Any]]
    bytecode: bytes
    source_hash: str


def source(test_build: bool = False) -> str:
    text = SOURCE_PATH.read_text()
    if TEST_HOOKS_OFF not in text:
        raise RuntimeError(f"{SOURCE_PATH} lost its '{TEST_HOOKS_OFF}' line")
    return text.replace(TEST_HOOKS_OFF, TEST_HOOKS_ON) if test_build else text


def _cache_dir() -> Path:
    return Path(os.environ.get("POCOPOOL_CACHE_DIR") or Path.home() / ".cache" / "pocopool") / "contracts"


def compiled(test_build: bool = False) -> CompiledContract:
    """The contract's ABI and bytecode (compiled once per source text and vyper version)."""
    with _lock:
        if test_build in _memo:
            return _memo[test_build]
        import vyper  # imported here: only EVM users pay for the compiler import

        text = source(test_build)
        digest = keccak(f"{vyper.__version__}\n{text}".encode()).hex()
        path = _cache_dir() / f"PocoLedger-{digest}.json"
        if path.is_file():
            data = json.loads(path.read_text())
        else:
            output = vyper.compile_code(text, output_formats=["abi", "bytecode"])
            data = {"abi": _rename(output["abi"]), "bytecode": output["bytecode"]}
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(data))
            partial.replace(path)  # atomic: concurrent compilers never read half a file
        result = CompiledContract(data["abi"], bytes.fromhex(data["bytecode"].removeprefix("0x")), digest)
        _memo[test_build] = result
        return result


def _rename(abi: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for entry in abi:
        renames = ABI_RENAMES.get(entry.get("name", "")) if entry.get("type") == "event" else None
        if not renames:
            continue
        for field in entry.get("inputs", []):
            field["name"] = renames.get(field["name"], field["name"])
    return abi
