"""Names of the ledger rules a transaction can break, shared by every Chain backend.

A failed precondition raises `ChainRevert(rule, message)`: `rule` is one of the constants below
(stable kebab-case, safe to match in code, the HTTP API and the CLI), `message` says what was
expected and what was found (for people, may change). The section of spec/poco.md each rule comes
from is given beside it.
"""

from __future__ import annotations

from .base import ChainError, ChainRevert

__all__ = ["ChainError", "ChainRevert", "NotALedgerError", "ALL_RULES"]


class NotALedgerError(ChainError):
    """The file exists but is not a pocopool ledger (or one of an unsupported schema)."""


# ----- any transaction ------------------------------------------------------------------------
INVALID_ARGUMENT = "invalid-argument"  # malformed hex, negative or > uint256 amount, bad type
ARITHMETIC_OVERFLOW = "arithmetic-overflow"  # checked uint256 arithmetic (poco.md §0)
ZERO_ADDRESS_NOT_ALLOWED = "zero-address"  # token transfers and mints to/from address 0 (§10.1)
INSUFFICIENT_BALANCE = "insufficient-balance"  # free balance too low to transfer or lock (§10.1)

# ----- ownership ------------------------------------------------------------------------------
ONLY_OWNER = "only-owner"  # ledger owner only: mint, createCategory (§11.1)
ONLY_WORKERPOOL_OWNER = "only-workerpool-owner"  # changePolicy (§16)
ONLY_SCHEDULER = "only-scheduler"  # msg.sender == deal.workerpool.owner: reopen, finalize (§7.4, §7.5)

# ----- registries and categories --------------------------------------------------------------
UNKNOWN_CATEGORY = "unknown-category"  # §4.1 [0x01]
UNKNOWN_APP = "unknown-app"  # §4.1 [0x20]
UNKNOWN_DATASET = "unknown-dataset"  # §4.1 [0x30]
UNKNOWN_WORKERPOOL = "unknown-workerpool"  # §4.1 [0x40]
INVALID_REWARD_RATIO = "invalid-reward-ratio"  # scheduler reward ratio ≤ 100 (§1)

# ----- deal creation --------------------------------------------------------------------------
INVALID_VOLUME = "invalid-volume"  # volume ≥ 1 (§4.1 [0x60])
MAX_PRICE_EXCEEDED = "max-price-exceeded"  # §4.1 [0x03]-[0x05]
TEE_APP_REQUIRED = "tee-app-required"  # TEE tag needs a TEE app (§4.1 [0x07])

# ----- initialize -----------------------------------------------------------------------------
UNKNOWN_DEAL = "unknown-deal"  # §7.1 (2) for a deal that does not exist
TASK_INDEX_OUT_OF_RANGE = "task-index-out-of-range"  # §7.1 (1)(2)
TASK_ALREADY_INITIALIZED = "task-already-initialized"  # §7.1 (3)

# ----- task status ----------------------------------------------------------------------------
TASK_NOT_ACTIVE = "task-not-active"  # contribute, contributeAndFinalize (§7.2, §7.6)
TASK_NOT_REVEALING = "task-not-revealing"  # reveal, reopen, finalize (§7.3-§7.5)
TASK_NOT_CLAIMABLE = "task-not-claimable"  # claim: ACTIVE or REVEALING only (§7.7)

# ----- deadlines (§11.2) ----------------------------------------------------------------------
CONTRIBUTION_DEADLINE_PASSED = "contribution-deadline-passed"
REVEAL_DEADLINE_PASSED = "reveal-deadline-passed"
REVEAL_DEADLINE_NOT_REACHED = "reveal-deadline-not-reached"  # reopen
FINAL_DEADLINE_PASSED = "final-deadline-passed"  # reopen, finalize
FINAL_DEADLINE_NOT_REACHED = "final-deadline-not-reached"  # claim

# ----- contribute (§7.2) ----------------------------------------------------------------------
ALREADY_CONTRIBUTED = "already-contributed"
ENCLAVE_CHALLENGE_REQUIRED = "enclave-challenge-required"
INVALID_AUTHORIZATION = "invalid-authorization"
INVALID_ENCLAVE_SIGNATURE = "invalid-enclave-signature"

# ----- reveal (§7.3) --------------------------------------------------------------------------
NOT_CONTRIBUTED = "not-contributed"  # the caller's contribution is not CONTRIBUTED
NOT_IN_CONSENSUS = "not-in-consensus"  # its resultHash is not the consensus value
WRONG_RESULT_HASH = "wrong-result-hash"
WRONG_RESULT_SEAL = "wrong-result-seal"

# ----- reopen, finalize, contributeAndFinalize (§7.4-§7.6) ------------------------------------
TASK_HAS_REVEALS = "task-has-reveals"  # reopen needs revealCounter == 0
REVEALS_PENDING = "reveals-pending"  # finalize needs every winner revealed, or one and the deadline passed
WRONG_RESULTS_CALLBACK = "wrong-results-callback"  # keccak(resultsCallback) != resultDigest (§13.1)
TASK_ALREADY_CONTRIBUTED = "task-already-contributed"  # contributeAndFinalize needs no contributor
TRUST_NOT_1 = "trust-not-1"  # contributeAndFinalize needs deal.trust == 1

# Every rule above, for tests that check a backend never invents one.
ALL_RULES: frozenset[str] = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
