"""The sentence each ledger rule says when a transaction breaks it, for both backends.

`revert(rule, found, **fields)` builds the `ChainRevert` every backend raises: the rule's sentence
from `SENTENCES` (what the rule asks for), its `{fields}` filled in, then what this transaction met
(`found`), when the backend knows it. LocalChain knows every value; EvmChain knows the fields the
contract's reason carries ("rule: a b", named by `REASON_FIELDS`). The rule name is the stable part;
the message is for people and may change.
"""

from __future__ import annotations

from typing import Any

from . import errors as rule
from .base import ChainRevert

SENTENCES: dict[str, str] = {
    rule.INVALID_ARGUMENT: "an argument is malformed or out of the ledger's bounds",
    rule.ARITHMETIC_OVERFLOW: "the amounts overflow the ledger's uint256 arithmetic",
    rule.ZERO_ADDRESS_NOT_ALLOWED: "tokens cannot move to or from the zero address",
    rule.INSUFFICIENT_BALANCE: "the account needs {needed} nRLC of free balance, it has {has}",
    rule.ONLY_OWNER: "only the ledger owner may do this",
    rule.ONLY_WORKERPOOL_OWNER: "only the workerpool owner may change its policy",
    rule.ONLY_SCHEDULER: "only the deal's scheduler (its workerpool owner) may do this",
    rule.UNKNOWN_CATEGORY: "this category does not exist",
    rule.UNKNOWN_APP: "no app is registered at this address",
    rule.UNKNOWN_DATASET: "no dataset is registered at this address",
    rule.UNKNOWN_WORKERPOOL: "no workerpool is registered at this address",
    rule.INVALID_REWARD_RATIO: "the scheduler reward ratio must be at most 100 %",
    rule.INVALID_VOLUME: "volume must be from 1 to 2^63 - 1 tasks",
    rule.MAX_PRICE_EXCEEDED: "the {resource} costs more than the requester accepts",
    rule.TEE_APP_REQUIRED: "the tag asks for TEE but the app has no mrenclave",
    rule.UNKNOWN_DEAL: "this deal does not exist",
    rule.TASK_INDEX_OUT_OF_RANGE: "the task index is outside the deal's bag of tasks",
    rule.TASK_ALREADY_INITIALIZED: "this task is already initialized",
    rule.TASK_NOT_ACTIVE: "the task must be ACTIVE",
    rule.TASK_NOT_REVEALING: "the task must be REVEALING",
    rule.TASK_NOT_CLAIMABLE: "the task must be ACTIVE or REVEALING",
    rule.CONTRIBUTION_DEADLINE_PASSED: "the contribution deadline must be after the block time",
    rule.REVEAL_DEADLINE_PASSED: "the reveal deadline must be after the block time",
    rule.REVEAL_DEADLINE_NOT_REACHED: "the reveal deadline must be reached",
    rule.FINAL_DEADLINE_PASSED: "the final deadline must be after the block time",
    rule.FINAL_DEADLINE_NOT_REACHED: "the final deadline must be reached",
    rule.ALREADY_CONTRIBUTED: "this worker already contributed to the task, its contribution is {status}",
    rule.ENCLAVE_CHALLENGE_REQUIRED: "this TEE deal needs an enclave challenge",
    rule.INVALID_AUTHORIZATION: "the authorization is not signed by the deal's scheduler for this worker and task",
    rule.INVALID_ENCLAVE_SIGNATURE: "the result is not signed by the enclave challenge",
    rule.NOT_CONTRIBUTED: "only a CONTRIBUTED contribution can be revealed, this one is {status}",
    rule.NOT_IN_CONSENSUS: "this worker did not vote for the consensus",
    rule.WRONG_RESULT_HASH: "the digest does not give the contributed result hash",
    rule.WRONG_RESULT_SEAL: "the digest does not give the contributed result seal",
    rule.TASK_HAS_REVEALS: "a winner revealed: finalize instead",
    rule.REVEALS_PENDING: (
        "finalize needs all {winners} winners revealed, or at least one and the reveal deadline "
        "reached; {revealed} revealed"
    ),
    rule.WRONG_RESULTS_CALLBACK: "keccak of the results callback must be the result digest",
    rule.TASK_ALREADY_CONTRIBUTED: "the task already has contributors",
    rule.TRUST_NOT_1: "contributeAndFinalize needs a deal of trust 1",
}

# The fields of a sentence, in the order the contract writes them after "rule: " in its reason.
REASON_FIELDS: dict[str, tuple[str, ...]] = {
    rule.INSUFFICIENT_BALANCE: ("needed", "has"),
    rule.MAX_PRICE_EXCEEDED: ("resource",),
    rule.ALREADY_CONTRIBUTED: ("status",),
    rule.NOT_CONTRIBUTED: ("status",),
    rule.REVEALS_PENDING: ("winners", "revealed"),
}


def sentence(rule_name: str, **fields: Any) -> str:
    """The rule's sentence with `fields` filled in; a plain refusal naming the rule if the rule is
    unknown or a field it needs is missing."""
    try:
        return SENTENCES[rule_name].format(**fields)
    except KeyError:
        return f"the ledger refused the transaction ({rule_name})"


def revert(rule_name: str, found: str = "", **fields: Any) -> ChainRevert:
    """`ChainRevert(rule_name, message)`: the rule's sentence, then `found` in parentheses if given."""
    text = sentence(rule_name, **fields)
    return ChainRevert(rule_name, f"{text} ({found})" if found else text)


__all__ = ["SENTENCES", "REASON_FIELDS", "sentence", "revert"]
