"""The built-in EVM node's chain: py-evm (through eth-tester's chain setup) answering the Ethereum
JSON-RPC methods web3.py uses, one `rpc_*` method each (the package docstring says how it behaves)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from eth.vm.forks.cancun import CancunVM
from eth.vm.spoof import SpoofTransaction
from eth_tester.backends.pyevm.main import get_default_genesis_params, setup_tester_chain
from eth_utils import to_checksum_address

from . import fees

GENESIS_PARENT_HASH = b"\x00" * 32
BLOCKS_PER_ANSWER = 256  # pocopool_blocks: a follower far behind asks again
REVERT_CODE = 3  # what geth and hardhat answer for a reverted call, with the revert data in `data`


class _SameSecondVM(CancunVM):
    """Cancun, except that a block may carry its parent's timestamp (never an earlier one)."""

    @classmethod
    def validate_header(cls, header: Any, parent_header: Any) -> None:
        if header.timestamp < parent_header.timestamp:
            raise ValueError("a block cannot be older than its parent")
        super().validate_header(header, parent_header.copy(timestamp=header.timestamp - 1))


def _hex(value: int | bytes) -> str:
    return hex(value) if isinstance(value, int) else "0x" + bytes(value).hex()


def _int(value: str | int | None, default: int = 0) -> int:
    if value is None:
        return default
    return value if isinstance(value, int) else int(value, 16)


def _bytes(value: str | None) -> bytes:
    return bytes.fromhex(value[2:]) if value else b""


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class Node:
    """The chain and the per-block records the RPC answers from (receipts, logs). One lock for all."""

    def __init__(
        self,
        chain_id: int = 1337,
        genesis_time: int | None = None,
        journal: Path | None = None,
        *,
        gas_price: int | None = None,
        funds: dict[str, int] | None = None,
    ) -> None:
        """`gas_price` (wei, default 0: free gas) and `funds` (address → wei at genesis) are the chain's:
        a journal's own are kept, and options given again must match them (fees.py)."""
        self.lock = threading.RLock()
        entries = _read_journal(journal) if journal is not None else []
        if entries:
            header = entries.pop(0)
            if header.get("chainId") != chain_id:
                raise ValueError(f"the journal {journal} holds chain {header.get('chainId')}, not chain {chain_id}")
            genesis_time = header["genesisTime"]
            gas_price, funds = fees.kept_in_journal(header, gas_price, funds, journal)
        genesis_time = int(genesis_time if genesis_time is not None else time.time())
        gas_price, funds = gas_price or 0, dict(funds or {})
        params = get_default_genesis_params({"timestamp": genesis_time})
        params["base_fee_per_gas"] = gas_price  # every block's (fees.py): what a unit of gas costs
        _, self.chain = setup_tester_chain(
            genesis_params=params,
            genesis_state=fees.genesis_state(funds),
            vm_configuration=((0, fees.constant_base_fee(_SameSecondVM)),),
        )
        type(self.chain).chain_id = chain_id
        self.chain_id = chain_id
        self.time_offset = 0
        self.next_timestamp: int | None = None
        self.blocks: list[dict[str, Any]] = []  # per block: number, hash, timestamp, tx hashes, receipts
        self.receipts: dict[bytes, dict[str, Any]] = {}
        self.snapshots: dict[int, tuple[bytes, list[dict[str, Any]], dict[bytes, dict[str, Any]], int]] = {}
        genesis = self.chain.get_canonical_head()
        self.blocks.append(self._record(genesis, []))
        self.gas_price, self.funds = gas_price, funds
        self.journal_header = {"chainId": chain_id, "genesisTime": genesis_time, "gasPrice": gas_price, "fund": funds}
        self.journal_entries: list[dict[str, Any]] = []  # one per block after genesis
        self._journal: TextIO | None = None
        for entry in entries:
            self.replay(entry)
        if journal is not None:
            journal.parent.mkdir(parents=True, exist_ok=True)
            self._journal_path = journal
            self._rewrite_journal()  # drops a line cut short by a kill, if any

    # ----- time ---------------------------------------------------------------------------------
    def _head(self) -> Any:
        return self.chain.get_canonical_head()

    def _pending_timestamp(self) -> int:
        parent = self._head().timestamp
        if self.next_timestamp is not None:
            return max(self.next_timestamp, parent)
        return max(int(time.time()) + self.time_offset, parent)

    def _pending_header(self) -> Any:
        return self.chain.header.copy(timestamp=self._pending_timestamp())

    # ----- mining ------------------------------------------------------------------------------
    def _record(self, header: Any, receipts: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "number": header.block_number,
            "hash": header.hash,
            "timestamp": header.timestamp,
            "parent": header.parent_hash,
            "gas_limit": header.gas_limit,
            "gas_used": header.gas_used,
            "base_fee": header.base_fee_per_gas,
            "receipts": receipts,
        }

    def _rewrite_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
        temporary = self._journal_path.with_name(self._journal_path.name + ".part")
        with open(temporary, "w") as sink:
            for line in [self.journal_header, *self.journal_entries]:
                sink.write(json.dumps(line) + "\n")
        temporary.replace(self._journal_path)
        self._journal = open(self._journal_path, "a")

    def _mine(
        self, transaction: Any | None, raw: bytes | None = None, *, mix_hash: bytes | None = None
    ) -> bytes | None:
        self.chain.header = self._pending_header()
        self.next_timestamp = None
        applied = self.chain.apply_transaction(transaction) if transaction is not None else None
        mix_hash = mix_hash if mix_hash is not None else os.urandom(32)
        block = self.chain.mine_block(mix_hash=mix_hash)
        entry = {
            "timestamp": block.header.timestamp,
            "mix": _hex(mix_hash),
            "tx": _hex(raw) if raw is not None else None,
        }
        self.journal_entries.append(entry)
        if self._journal is not None:  # written before the hash is answered: a mined block is a kept block
            self._journal.write(json.dumps(entry) + "\n")
            self._journal.flush()
        receipts: list[dict[str, Any]] = []
        if transaction is not None and applied is not None:
            _, receipt, computation = applied
            created = None
            if transaction.to == b"":
                from eth._utils.address import generate_contract_address

                created = to_checksum_address(generate_contract_address(transaction.sender, transaction.nonce))
            logs = [
                {
                    "address": to_checksum_address(log.address),
                    "topics": [_hex(topic.to_bytes(32, "big")) for topic in log.topics],
                    "data": _hex(log.data),
                    "logIndex": _hex(index),
                    "transactionIndex": "0x0",
                    "transactionHash": _hex(transaction.hash),
                    "blockHash": _hex(block.hash),
                    "blockNumber": _hex(block.number),
                    "removed": False,
                }
                for index, log in enumerate(receipt.logs)
            ]
            record = {
                "transactionHash": _hex(transaction.hash),
                "transactionIndex": "0x0",
                "blockHash": _hex(block.hash),
                "blockNumber": _hex(block.number),
                "from": to_checksum_address(transaction.sender),
                "to": to_checksum_address(transaction.to) if transaction.to else None,
                "cumulativeGasUsed": _hex(receipt.gas_used),
                "gasUsed": _hex(receipt.gas_used),
                "effectiveGasPrice": _hex(fees.effective_price(transaction, block.header.base_fee_per_gas)),
                "contractAddress": created,
                "logs": logs,
                "logsBloom": _hex(b"\x00" * 256),
                "status": "0x1" if computation.is_success else "0x0",
                "type": _hex(getattr(transaction, "type_id", None) or 0),
            }
            receipts.append(record)
            self.receipts[transaction.hash] = record
        self.blocks.append(self._record(block.header, receipts))
        return transaction.hash if transaction is not None else None

    def replay(self, entry: dict[str, Any]) -> bytes:
        """Mines the block a journal entry describes and returns its hash: the same timestamp, mix hash
        and transaction on the same parent give the same block (a restart's replay, a follower's sync)."""
        self.next_timestamp = entry["timestamp"]
        raw = _bytes(entry["tx"]) if entry["tx"] else None
        transaction = self._decode(raw) if raw is not None else None
        self._mine(transaction, raw, mix_hash=_bytes(entry["mix"]))
        return bytes(self.blocks[-1]["hash"])

    # ----- calls ------------------------------------------------------------------------------
    def _spoof(self, call: dict[str, Any], header: Any) -> SpoofTransaction:
        sender = _bytes(call.get("from")) or b"\x00" * 20
        vm = self.chain.get_vm(header)
        nonce = vm.state.get_nonce(sender)
        unsigned = vm.create_unsigned_transaction(
            nonce=nonce,
            gas_price=0,
            gas=_int(call.get("gas"), header.gas_limit),
            to=_bytes(call.get("to")),
            value=_int(call.get("value")),
            data=_bytes(call.get("data") or call.get("input")),
        )
        return SpoofTransaction(unsigned, from_=sender)

    def _call(self, call: dict[str, Any]) -> Any:
        header = self._pending_header().copy(base_fee_per_gas=0)  # a call pays nothing (geth's, without a price)
        vm = self.chain.get_vm(header)
        state = vm.state
        snapshot = state.snapshot()
        try:
            return state.apply_transaction(self._spoof(call, header))
        finally:
            state.revert(snapshot)

    def _raise_if_failed(self, computation: Any) -> None:
        if computation.is_success:
            return
        data = computation.output or b""
        reason = ""
        if data[:4] == bytes.fromhex("08c379a0"):
            try:
                from eth_abi import decode

                reason = decode(["string"], data[4:])[0]
            except Exception:  # noqa: BLE001 - undecodable reason: keep the raw data
                reason = ""
        message = f"execution reverted: {reason}" if reason else "execution reverted"
        raise RpcError(REVERT_CODE, message, _hex(data))

    # ----- RPC methods ------------------------------------------------------------------------
    def handle(self, method: str, params: list[Any]) -> Any:
        with self.lock:
            handler = getattr(self, "rpc_" + method, None)
            if handler is None:
                raise RpcError(-32601, f"method {method} is not supported by the pocopool EVM node")
            return handler(*params)

    def rpc_web3_clientVersion(self) -> str:
        return "pocopool-evmnode/py-evm"

    def rpc_eth_chainId(self) -> str:
        return _hex(self.chain_id)

    def rpc_net_version(self) -> str:
        return str(self.chain_id)

    def rpc_eth_blockNumber(self) -> str:
        return _hex(self._head().block_number)

    def rpc_eth_gasPrice(self) -> str:
        return _hex(self._head().base_fee_per_gas)  # the base fee, which is every block's; no tip needed

    def rpc_eth_maxPriorityFeePerGas(self) -> str:
        return "0x0"

    def _block_number(self, tag: Any) -> int:
        if tag in (None, "latest", "pending", "safe", "finalized"):
            return self._head().block_number
        if tag == "earliest":
            return 0
        return _int(tag)

    def rpc_eth_getBlockByNumber(self, tag: Any, full: bool = False) -> dict[str, Any] | None:
        number = self._block_number(tag)
        if number >= len(self.blocks):
            return None
        record = self.blocks[number]
        return {
            "number": _hex(record["number"]),
            "hash": _hex(record["hash"]),
            "parentHash": _hex(record["parent"]),
            "timestamp": _hex(record["timestamp"]),
            "gasLimit": _hex(record["gas_limit"]),
            "gasUsed": _hex(record["gas_used"]),
            "baseFeePerGas": _hex(record["base_fee"]),
            "miner": _hex(b"\x00" * 20),
            "difficulty": "0x0",
            "totalDifficulty": "0x0",
            "extraData": "0x",
            "size": "0x0",
            "nonce": "0x0000000000000000",
            "sha3Uncles": _hex(b"\x00" * 32),
            "logsBloom": _hex(b"\x00" * 256),
            "transactionsRoot": _hex(b"\x00" * 32),
            "stateRoot": _hex(b"\x00" * 32),
            "receiptsRoot": _hex(b"\x00" * 32),
            "mixHash": _hex(b"\x00" * 32),
            "uncles": [],
            "transactions": [r["transactionHash"] for r in record["receipts"]],
        }

    def rpc_eth_getTransactionCount(self, address: str, tag: Any = "latest") -> str:
        return _hex(self.chain.get_vm().state.get_nonce(_bytes(address)))

    def rpc_eth_getBalance(self, address: str, tag: Any = "latest") -> str:
        return _hex(self.chain.get_vm().state.get_balance(_bytes(address)))

    def rpc_eth_getCode(self, address: str, tag: Any = "latest") -> str:
        return _hex(self.chain.get_vm().state.get_code(_bytes(address)))

    def rpc_eth_call(self, call: dict[str, Any], tag: Any = "latest", *overrides: Any) -> str:
        computation = self._call(call)
        self._raise_if_failed(computation)
        return _hex(computation.output)

    def rpc_eth_estimateGas(self, call: dict[str, Any], tag: Any = "latest", *overrides: Any) -> str:
        """Intrinsic gas plus what the call used before refunds, in the pending block (py-evm's own
        estimator would run in a block stamped with the wall clock, not the time a test set)."""
        call = {key: value for key, value in call.items() if key != "gas"}
        computation = self._call(call)
        self._raise_if_failed(computation)
        spoof = self._spoof(call, self._pending_header())
        return _hex(spoof.intrinsic_gas + computation.get_gas_used())

    def _decode(self, raw: bytes) -> Any:
        return self.chain.get_vm(self._pending_header()).get_transaction_builder().decode(raw)

    def rpc_eth_sendRawTransaction(self, raw: str) -> str:
        vm = self.chain.get_vm(self._pending_header())
        try:
            transaction = vm.get_transaction_builder().decode(_bytes(raw))
            transaction.validate()
            expected = vm.state.get_nonce(transaction.sender)
        except Exception as error:  # noqa: BLE001 - a malformed transaction is the client's error
            raise RpcError(-32000, f"invalid transaction: {error}") from None
        if transaction.nonce != expected:
            raise RpcError(
                -32000,
                f"nonce too {'low' if transaction.nonce < expected else 'high'}: "
                f"expected {expected}, got {transaction.nonce}",
            )
        refusal = fees.unpayable(transaction, vm.state.get_balance(transaction.sender), self._head().base_fee_per_gas)
        if refusal is not None:
            raise RpcError(-32000, refusal)
        self._mine(transaction, _bytes(raw))
        return _hex(transaction.hash)

    def rpc_eth_getTransactionReceipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.receipts.get(_bytes(tx_hash))

    def rpc_eth_getLogs(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        head = self._head().block_number
        first = self._block_number(query.get("fromBlock", "latest"))
        last = min(self._block_number(query.get("toBlock", "latest")), head)
        addresses = query.get("address")
        if isinstance(addresses, str):
            addresses = [addresses]
        wanted = {a.lower() for a in addresses} if addresses else None
        topics = query.get("topics") or []
        found = []
        for number in range(max(first, 0), last + 1):
            for receipt in self.blocks[number]["receipts"]:
                for log in receipt["logs"]:
                    if wanted is not None and log["address"].lower() not in wanted:
                        continue
                    if _topics_match(log["topics"], topics):
                        found.append(log)
        return found

    def rpc_pocopool_blocks(self, first: Any, limit: Any = BLOCKS_PER_ANSWER) -> dict[str, Any]:
        """The journal of this chain from block `first` (at most `limit` blocks, each with its number and
        hash), the hash of block `first - 1` (None past the head), the journal's header, the head and the
        clock's offset: what a follower (follow.py) replays."""
        first, limit = max(_int(first), 1), min(max(_int(limit), 0), BLOCKS_PER_ANSWER)
        entries = self.journal_entries[first - 1 : first - 1 + limit]
        blocks = [
            {**entry, "number": number, "hash": _hex(self.blocks[number]["hash"])}
            for number, entry in enumerate(entries, start=first)
        ]
        head = self._head().block_number
        before = _hex(self.blocks[first - 1]["hash"]) if first - 1 <= head else None  # what they extend
        answer = {"header": self.journal_header, "head": head, "timeOffset": self.time_offset, "blocks": blocks}
        return {**answer, "from": first, "parentHash": before}

    def rpc_evm_setNextBlockTimestamp(self, timestamp: Any) -> bool:
        value = _int(timestamp) if isinstance(timestamp, str) else int(timestamp)
        if value < self._head().timestamp:
            raise RpcError(-32000, f"timestamp {value} is before the latest block's {self._head().timestamp}")
        self.next_timestamp = value
        self.time_offset = value - int(time.time())  # the clock goes on from there
        return True

    def rpc_evm_increaseTime(self, seconds: Any) -> str:
        self.time_offset += _int(seconds) if isinstance(seconds, str) else int(seconds)
        return _hex(self.time_offset)

    def rpc_evm_mine(self, *args: Any) -> str:
        self._mine(None)
        return "0x0"

    def rpc_evm_snapshot(self) -> str:
        snapshot_id = len(self.snapshots) + 1
        head = self._head()
        self.snapshots[snapshot_id] = (head.hash, list(self.blocks), dict(self.receipts), self.time_offset)
        return _hex(snapshot_id)

    def rpc_evm_revert(self, snapshot_id: Any) -> bool:
        key = _int(snapshot_id) if isinstance(snapshot_id, str) else int(snapshot_id)
        if key not in self.snapshots:
            return False
        head_hash, blocks, receipts, offset = self.snapshots[key]
        block = self.chain.get_block_by_hash(head_hash)
        chaindb = self.chain.chaindb
        chaindb._set_as_canonical_chain_head(chaindb.db, block.header, GENESIS_PARENT_HASH)
        if block.number > 0:
            self.chain.import_block(block)
        else:
            self.chain = self.chain.from_genesis_header(chaindb.db, block.header)
        self.blocks, self.receipts = list(blocks), dict(receipts)
        self.time_offset, self.next_timestamp = offset, None
        del self.journal_entries[len(self.blocks) - 1 :]
        if self._journal is not None:
            self._rewrite_journal()
        return True


def _read_journal(path: Path) -> list[dict[str, Any]]:
    """The header and block lines of a journal ([] if there is none). A last line cut short by a kill
    is dropped: its block was never answered as mined."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    entries = []
    for number, line in enumerate(lines):
        try:
            entries.append(json.loads(line))
        except ValueError:
            if number == len(lines) - 1:
                break
            raise ValueError(f"the journal {path} is damaged at line {number + 1}") from None
    return entries


def _topics_match(log_topics: list[str], wanted: list[Any]) -> bool:
    for position, expected in enumerate(wanted):
        if expected is None:
            continue
        if position >= len(log_topics):
            return False
        options = expected if isinstance(expected, list) else [expected]
        if log_topics[position].lower() not in {o.lower() for o in options}:
            return False
    return True
