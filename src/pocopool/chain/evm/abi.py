"""The ABI codec of the PocoLedger contract: call data, return values and event logs, in the
values LocalChain writes (checksummed addresses, 0x-hex bytes32, raw bytes, ints)."""

from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from ...protocol.crypto import InvalidHex, hex_to_bytes


def _abi_type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


def _python_value(kind: str, value: Any) -> Any:
    """ABI values as LocalChain writes them: checksummed addresses, 0x-hex bytes32, raw bytes, ints."""
    if kind == "address":
        return to_checksum_address(value)
    if kind == "bytes32":
        return "0x" + bytes(value).hex()
    if kind == "bytes":
        return bytes(value)
    return value


class Abi:
    """Function selectors and types, event topics, from the compiled ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[str, tuple[bytes, list[str], list[str]]] = {}
        self.events: dict[bytes, tuple[str, list[dict[str, Any]]]] = {}
        for entry in abi:
            if entry["type"] == "function":
                inputs = [_abi_type(p) for p in entry["inputs"]]
                outputs = [_abi_type(p) for p in entry["outputs"]]
                selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(inputs)})")
                self.functions[entry["name"]] = (selector, inputs, outputs)
            elif entry["type"] == "event":
                signature = f"{entry['name']}({','.join(_abi_type(p) for p in entry['inputs'])})"
                self.events[keccak(text=signature)] = (entry["name"], entry["inputs"])

    def encode(self, name: str, args: list[Any]) -> bytes:
        selector, inputs, _ = self.functions[name]
        return selector + abi_encode(inputs, args)

    def decode_output(self, name: str, data: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(self.functions[name][2], data))

    def decode_log(self, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        if not topics or topics[0] not in self.events:
            return None
        name, inputs = self.events[topics[0]]
        plain = [p for p in inputs if not p["indexed"]]
        values = list(abi_decode([_abi_type(p) for p in plain], bytes.fromhex(log["data"][2:])))
        args: dict[str, Any] = {}
        indexed = iter(topics[1:])
        for param in inputs:
            if param["indexed"]:
                raw = next(indexed)
                value = abi_decode([param["type"]], raw)[0] if param["type"] != "bytes32" else raw
            else:
                value = values.pop(0)
            args[param["name"]] = _python_value(param["type"], value)
        return name, args


def signature_bytes(signature: Any) -> bytes:
    """A 65-byte signature, or b"" for anything else (which the contract treats as recovering nobody)."""
    if not isinstance(signature, str) or not signature:
        return b""
    try:
        return hex_to_bytes(signature, 65, "signature")
    except InvalidHex:
        return b""
