"""Keys, raw signatures and EIP-712 hashing of protocol/ (keys.py, hashing.py, eip712.py): equal to
the reference vectors and, on random inputs, byte for byte to eth-account, the library they replace
in every process that does not send EVM transactions (decision 104)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from pocopool.protocol import eip712
from pocopool.protocol.crypto import recover_hash, sign_hash, sign_typed_data, typed_data_digest
from pocopool.protocol.hashing import checksum_address, keccak
from pocopool.protocol.keys import Wallet

VECTORS = json.loads((Path(__file__).resolve().parents[3] / "shared" / "spec" / "vectors.json").read_text())
KEYS = {key["address"]: key["key"] for key in VECTORS["keys"].values()}
ORDER_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ]
}

private_keys = st.integers(min_value=1, max_value=2**255).map(lambda n: f"0x{n:064x}")
digests = st.binary(min_size=32, max_size=32)


def test_the_vector_keys_give_the_vector_addresses() -> None:
    for address, key in KEYS.items():
        assert Wallet.from_key(key).address == address


@pytest.mark.parametrize("key", ["", "0x", "0x" + "00" * 32, "0x" + "ff" * 32, "0x" + "zz" * 32, "0x12", 12])
def test_a_key_that_is_no_secp256k1_key_is_refused_without_being_echoed(key: Any) -> None:
    with pytest.raises(ValueError) as raised:
        Wallet.from_key(key)
    assert "zz" not in str(raised.value) and "ff" * 8 not in str(raised.value)


@settings(max_examples=60, deadline=None)
@given(private_keys, digests)
def test_signatures_and_recovery_equal_eth_accounts(key: str, digest: bytes) -> None:
    ours = sign_hash(key, digest)
    theirs = Account.unsafe_sign_hash(digest, key)
    assert ours == "0x" + bytes(theirs.signature).hex()
    assert Wallet.from_key(key).address == Account.from_key(key).address
    assert recover_hash(digest, ours) == Account.from_key(key).address


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=20, max_size=20), st.binary(max_size=200))
def test_checksums_and_keccak_equal_eth_utils(raw: bytes, data: bytes) -> None:
    from eth_utils import keccak as eth_keccak

    assert checksum_address(raw) == to_checksum_address(raw)
    assert keccak(data) == eth_keccak(data)


@pytest.mark.parametrize("order", VECTORS["orders"]["orders"], ids=lambda order: order["type"])
def test_order_hashes_and_signatures_match_the_vectors(order: dict[str, Any]) -> None:
    name, fields = order["typeString"].rstrip(")").split("(")
    types = {
        **ORDER_TYPES,
        name: [{"type": f.split()[0], "name": f.split()[1]} for f in fields.split(",")],
    }
    typed = {"types": types, "primaryType": name, "domain": VECTORS["orders"]["domain"], "message": order["message"]}
    assert eip712.encode_type(name, types) == order["typeString"]
    assert "0x" + eip712.type_hash(name, types).hex() == order["typeHash"]
    assert "0x" + eip712.hash_struct(name, order["message"], types).hex() == order["structHash"]
    assert (
        "0x" + eip712.hash_struct("EIP712Domain", VECTORS["orders"]["domain"], types).hex() == order["domainSeparator"]
    )
    assert "0x" + typed_data_digest(typed).hex() == order["digest"]
    assert sign_typed_data(KEYS[order["signer"]], typed) == order["signature"]


NESTED = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
        "Person": [{"name": "wallet", "type": "address"}, {"name": "tags", "type": "bytes32[]"}],
        "Mail": [
            {"name": "from", "type": "Person"},
            {"name": "to", "type": "Person[]"},
            {"name": "contents", "type": "string"},
            {"name": "blob", "type": "bytes"},
            {"name": "urgent", "type": "bool"},
            {"name": "delta", "type": "int64"},
            {"name": "flag", "type": "bytes1"},
        ],
    },
    "primaryType": "Mail",
    "domain": {"name": "pocopool", "chainId": 7},
    "message": {
        "from": {"wallet": "0x" + "11" * 20, "tags": ["0x" + "22" * 32]},
        "to": [{"wallet": "0x" + "33" * 20, "tags": []}, {"wallet": "0x" + "44" * 20, "tags": ["0x" + "55" * 32] * 2}],
        "contents": "Hello, Bob!",
        "blob": "0xdeadbeef",
        "urgent": True,
        "delta": -42,
        "flag": "0x07",
    },
}


def test_nested_structs_arrays_and_every_atomic_type_hash_as_eth_account_does() -> None:
    signable = encode_typed_data(full_message=copy.deepcopy(NESTED))
    assert typed_data_digest(NESTED) == keccak(b"\x19" + signable.version + signable.header + signable.body)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("message", "urgent"), 1, "Mail.urgent must be true or false"),
        (("message", "delta"), 2**63, "does not fit in int64"),
        (("message", "flag"), "0x0708", "Mail.flag must be 1 bytes"),
        (("message", "from", "wallet"), "0x11", "Mail.from.wallet must be 20 bytes"),
        (("message", "contents"), None, "Mail.contents must be a string"),
    ],
)
def test_a_value_that_does_not_fit_its_type_is_refused_by_name(path: tuple[str, ...], value: Any, message: str) -> None:
    typed = copy.deepcopy(NESTED)
    target = typed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(eip712.TypedDataError, match=message):
        typed_data_digest(typed)


def test_a_document_without_its_parts_is_refused() -> None:
    with pytest.raises(eip712.TypedDataError, match="needs types, primaryType, domain and message"):
        typed_data_digest({"types": {}})
