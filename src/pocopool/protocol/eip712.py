"""EIP-712 typed-data hashing (https://eips.ethereum.org/EIPS/eip-712), as PoCo signs its logs
challenge and its orders (spec/poco.md §12, spec/scheduler.md §7.2).

    digest = keccak(0x19 0x01 ‖ hashStruct(EIP712Domain, domain) ‖ hashStruct(primaryType, message))

A typed-data document is the JSON shape wallets sign (`types`, `primaryType`, `domain`, `message`).
Atomic values: `address` and `bytesN` as 0x-hex (bytes accepted), `uintN`/`intN` as int (or a
decimal/0x string), `bool`; `string` and `bytes` are hashed; a struct is hashed by its own type; an
array `T[]`/`T[n]` is the hash of its encoded items. Anything else is refused with TypedDataError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .hashing import keccak

_ARRAY = re.compile(r"^(.+)\[(\d*)\]$")
_INT = re.compile(r"^(u?)int(\d*)$")
_BYTES_N = re.compile(r"^bytes(\d+)$")
DOMAIN = "EIP712Domain"

Types = Mapping[str, list[Mapping[str, str]]]


class TypedDataError(ValueError):
    """A typed-data document or value that EIP-712 cannot encode; the message names the field."""


def encode_type(primary: str, types: Types) -> str:
    """`Primary(type name,…)` followed by every struct it references, sorted by name."""
    found: set[str] = set()

    def collect(name: str) -> None:
        if name in found or name not in types:
            return
        found.add(name)
        for field in types[name]:
            collect(_base(field["type"]))

    if primary not in types:
        raise TypedDataError(f"no type {primary!r} in the typed data")
    collect(primary)
    ordered = [primary, *sorted(found - {primary})]
    return "".join(f"{name}({_fields(types[name])})" for name in ordered)


def _fields(fields: list[Mapping[str, str]]) -> str:
    return ",".join(f"{field['type']} {field['name']}" for field in fields)


def type_hash(primary: str, types: Types) -> bytes:
    return keccak(encode_type(primary, types).encode())


def hash_struct(primary: str, value: Mapping[str, Any], types: Types, where: str = "") -> bytes:
    """`where` names the value in errors (default: the type's name)."""
    where = where or primary
    if not isinstance(value, Mapping):
        raise TypedDataError(f"{where} must be an object, got {type(value).__name__}")
    encoded = [type_hash(primary, types)]
    for field in types[primary]:
        name = field["name"]
        if name not in value:
            raise TypedDataError(f"{where}.{name} is missing")
        encoded.append(_encode(field["type"], value[name], types, f"{where}.{name}"))
    return keccak(b"".join(encoded))


def digest(typed_data: Mapping[str, Any]) -> bytes:
    """The 32 bytes a wallet signs for this typed-data document."""
    try:
        types, primary = typed_data["types"], typed_data["primaryType"]
        domain, message = typed_data["domain"], typed_data["message"]
    except (KeyError, TypeError):
        raise TypedDataError("typed data needs types, primaryType, domain and message") from None
    if DOMAIN not in types:
        raise TypedDataError(f"typed data has no {DOMAIN} type")
    return keccak(b"\x19\x01" + hash_struct(DOMAIN, domain, types) + hash_struct(primary, message, types))


def _base(type_name: str) -> str:
    match = _ARRAY.match(type_name)
    return _base(match.group(1)) if match else type_name


def _encode(type_name: str, value: Any, types: Types, where: str) -> bytes:
    if (array := _ARRAY.match(type_name)) is not None:
        item_type, size = array.group(1), array.group(2)
        if not isinstance(value, (list, tuple)) or (size and len(value) != int(size)):
            raise TypedDataError(f"{where} must be an array{f' of {size}' if size else ''}")
        return keccak(b"".join(_encode(item_type, item, types, f"{where}[{i}]") for i, item in enumerate(value)))
    if type_name in types:
        return hash_struct(type_name, value, types, where)
    if type_name == "string":
        if not isinstance(value, str):
            raise TypedDataError(f"{where} must be a string")
        return keccak(value.encode())
    if type_name == "bytes":
        return keccak(_raw_bytes(value, None, where))
    if type_name == "address":
        return _raw_bytes(value, 20, where).rjust(32, b"\0")
    if type_name == "bool":
        if not isinstance(value, bool):
            raise TypedDataError(f"{where} must be true or false")
        return int(value).to_bytes(32, "big")
    if (fixed := _BYTES_N.match(type_name)) is not None and 1 <= int(fixed.group(1)) <= 32:
        return _raw_bytes(value, int(fixed.group(1)), where).ljust(32, b"\0")
    if (integer := _INT.match(type_name)) is not None:
        bits = int(integer.group(2) or 256)
        number = _integer(value, where)
        low, high = (0, 2**bits) if integer.group(1) else (-(2 ** (bits - 1)), 2 ** (bits - 1))
        if not low <= number < high:
            raise TypedDataError(f"{where} = {number} does not fit in {type_name}")
        return number.to_bytes(32, "big", signed=not integer.group(1))
    raise TypedDataError(f"{where} has an unknown type {type_name!r}")


def _raw_bytes(value: Any, size: int | None, where: str) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    elif isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) % 2 == 0:
        try:
            raw = bytes.fromhex(value[2:])
        except ValueError:
            raise TypedDataError(f"{where} is not valid hex: {value!r}") from None
    else:
        raise TypedDataError(f"{where} must be 0x-prefixed hex, got {value!r}")
    if size is not None and len(raw) != size:
        raise TypedDataError(f"{where} must be {size} bytes, got {len(raw)}")
    return raw


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise TypedDataError(f"{where} must be an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value[:2] in ("0x", "0X") else int(value, 10)
        except ValueError:
            pass
    raise TypedDataError(f"{where} must be an integer, got {value!r}")
