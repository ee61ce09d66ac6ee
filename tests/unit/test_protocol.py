"""protocol/ against the spec's worked values (spec/vectors.json, spec/scheduler.md §2.3, §5.4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from pocopool.protocol import crypto, digest
from pocopool.protocol.consensus import is_winning_group, needs_more_contributions, reward_weight, worker_weight
from pocopool.protocol.models import ReplicateStatusDetails
from pocopool.protocol.params import DealParams
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
)
from pocopool.protocol.statuses import (
    ReplicateStatusCause,
    missing_statuses,
)
from pocopool.protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.protocol.statuses import (
    TaskStatus as TS,
)
from pocopool.protocol.time import VirtualClock, reveal_deadline, task_deadlines
from pocopool.protocol.transitions import (
    REPLICATE_TRANSITIONS,
    is_valid_replicate_transition,
    is_valid_task_path,
    is_valid_task_transition,
    next_action,
)

SPEC = Path(__file__).resolve().parents[1] / "data"  # a copy of shared/spec/vectors.json
VECTORS = json.loads((SPEC / "vectors.json").read_text())


def test_enums_have_the_reference_sizes_and_every_member_a_description() -> None:
    assert len(TS) == 21 and len(RS) == 33
    causes = list(Cause)
    reference = causes[: causes.index(Cause.POST_COMPUTE_IPFS_UPLOAD_FAILED) + 1]
    assert len(reference) == 101  # the reference's causes come first, in its order
    assert causes[101:] == [  # then pocopool's extensions, each in its marked block
        Cause.APP_MEMORY_LIMIT_EXCEEDED,
        Cause.APP_PROCESS_LIMIT_EXCEEDED,
        Cause.APP_OUTPUT_LIMIT_EXCEEDED,
        Cause.APP_TMP_LIMIT_EXCEEDED,
        Cause.APP_CPU_TIME_LIMIT_EXCEEDED,
    ]
    for enum in (TS, RS, Cause):
        for member in enum:
            assert member.description.strip(), member


def test_ordinals_follow_the_reference_order() -> None:
    assert TS.RECEIVED.ordinal == 0 and TS.RUNNING.ordinal == 4 and TS.FAILED.ordinal == 20
    assert RS.COMPUTED.ordinal == 12 and RS.WORKER_LOST.ordinal == 32


def test_task_ids_match_the_vectors() -> None:
    for case in VECTORS["taskid"]:
        assert crypto.task_id(case["dealid"], case["index"]) == case["taskid"]


def test_result_hash_and_seal_match_the_vectors() -> None:
    c = VECTORS["commitment"]
    assert crypto.result_hash(c["taskid"], c["resultDigest"]) == c["resultHash"]
    assert crypto.result_seal(c["worker"], c["taskid"], c["resultDigest"]) == c["resultSeal"]


def test_workerpool_authorization_is_signed_and_recovered_as_in_the_vectors() -> None:
    a = VECTORS["workerpoolAuthorization"]
    key = VECTORS["keys"]["scheduler"]["key"]
    assert crypto.to_hex(crypto.authorization_hash(a["worker"], a["taskid"], a["enclaveChallenge"])) == a["hash"]
    signature = crypto.sign_authorization(key, a["worker"], a["taskid"], a["enclaveChallenge"])
    assert signature == a["signature"]
    assert (
        crypto.recover_authorization_signer(a["worker"], a["taskid"], a["enclaveChallenge"], signature) == a["signer"]
    )


def test_a_tampered_authorization_recovers_someone_else() -> None:
    a = VECTORS["workerpoolAuthorization"]
    other_task = VECTORS["taskid"][1]["taskid"]
    signer = crypto.recover_authorization_signer(a["worker"], other_task, a["enclaveChallenge"], a["signature"])
    assert signer != a["signer"]


def test_malformed_or_malleable_signatures_recover_nobody() -> None:
    key = crypto.new_private_key()
    digest_ = crypto.keccak(b"x")
    good = crypto.sign_hash(key, digest_)
    raw = bytes.fromhex(good[2:])
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = (n - int.from_bytes(raw[32:64], "big")).to_bytes(32, "big")
    flipped_v = bytes([55 - raw[64]])  # 27 <-> 28
    malleable = crypto.to_hex(raw[:32] + high_s + flipped_v)
    assert crypto.recover_hash(digest_, good) == crypto.address_of(key)
    assert crypto.recover_hash(digest_, malleable) is None
    assert crypto.recover_hash(digest_, "0x1234") is None
    assert crypto.recover_hash(digest_, "not hex") is None


def test_logs_challenge_digest_and_signature_match_the_vectors() -> None:
    vec = VECTORS["logsChallenge"]
    typed = crypto.logs_challenge_typed_data(
        vec["typedData"]["message"]["challenge"], vec["typedData"]["domain"]["chainId"]
    )
    assert typed == vec["typedData"]
    assert crypto.to_hex(crypto.typed_data_digest(typed)) == vec["digest"]
    assert crypto.recover_typed_data(typed, vec["signature"]) == vec["signer"]


def test_java_hex_decoding_is_lossy_but_deterministic() -> None:
    assert crypto.java_hex_bytes("0x0aff") == b"\x0a\xff"
    assert crypto.java_hex_bytes("abc") == b"\x0a\xbc"
    # '+' and '/' count as -1: ((-1 << 4) + -1) & 0xFF == 0xEF
    assert crypto.java_hex_bytes("+/") == b"\xef"
    key = crypto.new_private_key()
    challenge = "c3RlZXJpbmctY2hhbGxlbmdl"
    assert crypto.recover_login(challenge, crypto.sign_login(key, challenge)) == crypto.address_of(key)


def test_result_digests_match_the_vectors() -> None:
    f = VECTORS["resultDigest"]["file"]
    assert digest.file_digest(f["content_utf8"].encode()) == f["digest"]
    folder = VECTORS["resultDigest"]["folder"]
    children = [(name, text.encode()) for name, text in folder["children_utf8"].items()]
    assert digest.folder_digest(list(reversed(children))) == folder["digest"]


def test_a_child_folder_adds_nothing_to_the_folder_digest() -> None:
    assert digest.folder_digest([("a", b"A"), ("sub", None)]) == digest.folder_digest([("a", b"A")])


def test_error_result_text_is_byte_identical_to_the_reference() -> None:
    assert digest.error_result_text("APP_DOWNLOAD_FAILED", "APP_IMAGE_DOWNLOAD_FAILED") == (
        "[IEXEC] Errors occurred while computing the task [error:APP_DOWNLOAD_FAILED, "
        "causes:[WorkflowError[cause=APP_IMAGE_DOWNLOAD_FAILED, message=]]]"
    )


def test_an_error_result_with_several_causes_lists_them_as_java_prints_a_list() -> None:
    assert digest.error_result_text(
        "DATA_DOWNLOAD_FAILED", "DATASET_FILE_BAD_CHECKSUM", "INPUT_FILES_DOWNLOAD_FAILED"
    ) == (
        "[IEXEC] Errors occurred while computing the task [error:DATA_DOWNLOAD_FAILED, "
        "causes:[WorkflowError[cause=DATASET_FILE_BAD_CHECKSUM, message=], "
        "WorkflowError[cause=INPUT_FILES_DOWNLOAD_FAILED, message=]]]"
    )


def test_several_exit_causes_lead_with_the_cause() -> None:
    two = [{"cause": "INPUT_FILES_DOWNLOAD_FAILED", "message": "a"}, {"cause": "DATASET_FILE_BAD_CHECKSUM"}]
    details = ReplicateStatusDetails.model_validate({"exitCauses": two})
    assert details.cause is ReplicateStatusCause.INPUT_FILES_DOWNLOAD_FAILED
    assert [e.message for e in details.exitCauses or []] == ["a", ""]
    with pytest.raises(ValidationError, match="first of details.exitCauses"):
        ReplicateStatusDetails.model_validate({"cause": "DATASET_FILE_BAD_CHECKSUM", "exitCauses": two})
    with pytest.raises(ValidationError):
        ReplicateStatusDetails.model_validate({"exitCauses": []})
    with pytest.raises(ValidationError):
        ReplicateStatusDetails.model_validate({"exitCauses": [{"cause": "NOT_A_CAUSE"}]})


def test_weights_match_the_vectors() -> None:
    for case in VECTORS["weights"]:
        assert worker_weight(case["score"]) == case["weight"]
        assert reward_weight(case["score"]) == case["rewardWeight"]


def test_the_winning_group_test_replays_the_vector_vote_sequences() -> None:
    for case in VECTORS["consensus"]:
        groups: dict[str, int] = {}
        total, reached_at = 1, None
        for number, vote in enumerate(case["votes"], start=1):
            w = worker_weight(vote["score"])
            g = groups.get(vote["result"], 0)
            delta = max(g, 1) * w - g
            groups[vote["result"]] = g + delta
            total += delta
            if is_winning_group(groups[vote["result"]], total, case["trust"]):
                reached_at = number
                break
        expected = case["expected"]
        assert reached_at == expected["reachedAtVote"], case
        assert total == expected["total"], case
        if reached_at is None:
            assert groups == expected["groups"], case
        else:
            assert groups[expected["consensus"]] == expected["group"], case


def test_deadlines_match_the_vectors() -> None:
    d = VECTORS["deadlines"]
    deadlines = task_deadlines(d["dealStartTime"], d["workClockTimeRef"])
    assert deadlines.contribution == d["contributionDeadline"] and deadlines.final == d["finalDeadline"]
    at = d["revealDeadlineIfConsensusAt"]
    assert reveal_deadline(at["at"], d["workClockTimeRef"]) == at["revealDeadline"]


@pytest.mark.parametrize(
    ("current", "allowed"),
    [
        (RS.CREATED, {RS.STARTING, RS.FAILED, RS.WORKER_LOST, RS.RECOVERING, RS.ABORTED}),
        (RS.START_FAILED, {RS.FAILED, RS.WORKER_LOST, RS.ABORTED}),
        (RS.APP_DOWNLOAD_FAILED, {RS.CONTRIBUTING, RS.FAILED, RS.WORKER_LOST, RS.RECOVERING, RS.ABORTED}),
        (
            RS.COMPUTED,
            {RS.CONTRIBUTING, RS.CONTRIBUTE_AND_FINALIZE_ONGOING, RS.FAILED, RS.WORKER_LOST, RS.RECOVERING, RS.ABORTED},
        ),
        (RS.REVEALED, {RS.RESULT_UPLOAD_REQUESTED, RS.COMPLETING, RS.WORKER_LOST, RS.RECOVERING, RS.ABORTED}),
        (RS.RESULT_UPLOAD_FAILED, {RS.COMPLETING, RS.WORKER_LOST, RS.RECOVERING, RS.ABORTED}),
        (RS.COMPLETE_FAILED, {RS.WORKER_LOST, RS.ABORTED}),
        (RS.COMPLETED, set()),
        (RS.FAILED, set()),
        (RS.ABORTED, {RS.FAILED, RS.WORKER_LOST, RS.COMPLETED}),
        (RS.RECOVERING, set(RS) - {RS.CREATED, RS.STARTING}),
        (RS.WORKER_LOST, set(RS) - {RS.WORKER_LOST}),
    ],
)
def test_replicate_transitions_match_the_reference_table(current: RS, allowed: set[RS]) -> None:
    assert set(REPLICATE_TRANSITIONS[current]) == allowed


def test_every_replicate_status_has_a_row() -> None:
    assert set(REPLICATE_TRANSITIONS) == set(RS)
    assert not is_valid_replicate_transition(RS.CREATED, RS.COMPUTED)


def test_task_happy_path_and_failures_are_valid_paths() -> None:
    happy = [
        TS.INITIALIZING,
        TS.INITIALIZED,
        TS.RUNNING,
        TS.CONSENSUS_REACHED,
        TS.AT_LEAST_ONE_REVEALED,
        TS.RESULT_UPLOADING,
        TS.RESULT_UPLOADED,
        TS.FINALIZING,
        TS.FINALIZED,
        TS.COMPLETED,
    ]
    assert is_valid_task_path(TS.RECEIVED, happy)
    assert is_valid_task_path(TS.RUNNING, [TS.CONTRIBUTION_TIMEOUT, TS.FAILED])
    assert is_valid_task_path(TS.CONSENSUS_REACHED, [TS.REOPENING, TS.REOPENED, TS.INITIALIZED])
    assert not is_valid_task_transition(TS.COMPLETED, TS.FAILED)
    assert not is_valid_task_transition(TS.RECEIVED, TS.RUNNING)


def test_every_non_final_task_status_can_reach_a_final_one() -> None:
    from pocopool.protocol.transitions import TASK_TRANSITIONS

    for status in TS:
        seen, frontier = {status}, [status]
        while frontier:
            for nxt in TASK_TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert status.is_final or TS.COMPLETED in seen or TS.FAILED in seen, status
        # Once finalized on chain a task can only complete; every other status can still fail.
        if not status.is_final and status is not TS.FINALIZED:
            assert TS.FAILED in seen, f"{status} can never fail"


def test_next_action_follows_the_reference_rules() -> None:
    assert next_action(RS.STARTED, None) is Next.PLEASE_DOWNLOAD_APP
    assert next_action(RS.COMPUTED, None) is Next.PLEASE_CONTRIBUTE
    assert next_action(RS.COMPUTED, None, contribute_and_finalize=True) is Next.PLEASE_CONTRIBUTE_AND_FINALIZE
    assert next_action(RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED) is Next.PLEASE_CONTRIBUTE
    assert next_action(RS.APP_DOWNLOAD_FAILED, Cause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE) is Next.PLEASE_ABORT
    assert next_action(RS.DATA_DOWNLOAD_FAILED, Cause.DATASET_FILE_BAD_CHECKSUM) is Next.PLEASE_CONTRIBUTE
    assert next_action(RS.DATA_DOWNLOAD_FAILED, Cause.STAKE_TOO_LOW) is Next.PLEASE_ABORT
    assert next_action(RS.ABORTED, Cause.CONSENSUS_REACHED) is Next.PLEASE_WAIT  # never an empty body
    assert next_action(RS.COMPLETED, None) is Next.PLEASE_WAIT


def test_missing_statuses_fill_the_success_path() -> None:
    assert missing_statuses(RS.CONTRIBUTING, RS.REVEALED) == [RS.CONTRIBUTED, RS.REVEALING, RS.REVEALED]
    assert missing_statuses(RS.START_FAILED, RS.CONTRIBUTED) == []


def test_consensus_prediction_hands_out_replicates_only_while_needed() -> None:
    # trust 1: one replicate at a time
    assert needs_more_contributions({}, [], trust=1)
    assert not needs_more_contributions({}, [2], trust=1)
    # trust 3 (fresh workers, weight 2): two agreeing voters are needed
    assert needs_more_contributions({}, [2], trust=3)
    assert not needs_more_contributions({}, [2, 2], trust=3)
    assert not needs_more_contributions({"h": [2]}, [2], trust=3)
    # a dissenting vote raises the bar
    assert needs_more_contributions({"good": [2], "bad": [2]}, [2], trust=3)


def test_deal_params_parse_json_and_plain_strings() -> None:
    assert DealParams.parse("a b").iexec_args == "a b"
    parsed = DealParams.parse('{"iexec_args": "x \\"y z\\"", "iexec_input_files": ["http://h/f"]}')
    assert parsed.argv() == ["x", "y z"] and parsed.iexec_input_files == ("http://h/f",)
    assert DealParams.parse(DealParams(iexec_args="q", iexec_input_files=("u",)).to_json()).iexec_input_files == ("u",)
    assert DealParams.parse("[1]").iexec_args == "[1]"


async def test_virtual_clock_wakes_sleepers_only_when_advanced() -> None:
    import asyncio

    clock = VirtualClock(start=100.0)
    woke: list[float] = []

    async def sleeper() -> None:
        await clock.sleep(600)
        woke.append(clock.now())

    task = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    clock.advance(599)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(1)
    await asyncio.wait_for(task, 1)
    assert woke == [700.0]


@pytest.mark.parametrize(
    "value",
    [
        "0x" + "ab" * 32 + "\n",
        "0x" + "ab " * 32,
        "0x" + "g" * 64,
        "0x" + "a" * 63,
        "ab" * 32,
        "0x" + "ab" * 31,
    ],
)
def test_a_bytes32_id_is_exactly_0x_and_64_hex_digits(value: str) -> None:
    with pytest.raises(crypto.InvalidHex):
        crypto.normalize_bytes32(value)


def test_ids_are_normalised_to_one_spelling() -> None:
    assert crypto.normalize_bytes32("0x" + "AB" * 32) == "0x" + "ab" * 32
    assert crypto.normalize_address("0x" + "ab" * 20) == crypto.normalize_address("0x" + "AB" * 20)
    with pytest.raises(crypto.InvalidHex):
        crypto.normalize_address("0x" + "ab" * 19 + " a")
