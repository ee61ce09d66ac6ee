"""Replicates that disagree, explained (issue 27.6, decision 120): the files a digest read, their
variants among replicates, and the diagnosis — pure functions over plain values and the task view."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import pytest
from pydantic import ValidationError

from pocopool.protocol import crypto
from pocopool.protocol.diagnosis import diagnose
from pocopool.protocol.digest import (
    MAX_REPORTED_FILES,
    ComputedFile,
    EntryKind,
    digest_and_files,
    digests_of_files,
    folder_digest,
    result_digest,
)
from pocopool.protocol.disagreement import disagreement, file_variants, files_match
from pocopool.protocol.models import ReplicateStatusDetails
from pocopool.protocol.views import TaskView

TASK = "0x" + "33" * 32
W1, W2, W3 = ("0x" + c * 40 for c in "abc")


class Files:
    """A ResultFiles over a dict: path → bytes (a folder is every path under it)."""

    def __init__(self, contents: dict[str, bytes]) -> None:
        self.contents = contents

    def kind(self, path: str) -> EntryKind | None:
        if path in self.contents:
            return "file"
        if path == "" or any(p.startswith(path + "/") for p in self.contents):
            return "folder"
        return None

    def children(self, folder: str) -> Iterable[str]:
        prefix = f"{folder}/" if folder else ""
        return sorted({prefix + p[len(prefix) :].split("/")[0] for p in self.contents if p.startswith(prefix)})

    def file_sha256(self, path: str) -> bytes:
        return hashlib.sha256(self.contents[path]).digest()


def sha(content: bytes) -> str:
    return "0x" + hashlib.sha256(content).hexdigest()


def run(time: bytes) -> dict[str, bytes]:
    return {"time.txt": time, "constant.txt": b"same\n", "computed.json": b"{}"}


FOLDER = ComputedFile("/iexec_out", None, None)


# ----- the files a digest read ---------------------------------------------------------------------
def test_the_reported_files_give_the_digest_the_worker_votes_on() -> None:
    files = Files(run(b"1\n"))
    digest, reported = digest_and_files(FOLDER, files, callback=False)
    assert digest == result_digest(FOLDER, files, callback=False)
    assert digest == folder_digest([(p, c) for p, c in run(b"1\n").items()])
    assert reported == {p: sha(c) for p, c in run(b"1\n").items()}
    assert digests_of_files(reported) == {digest}


def test_a_one_file_output_reports_that_file_and_its_sha256_is_the_digest() -> None:
    digest, reported = digest_and_files(
        ComputedFile("/iexec_out/time.txt", None, None), Files(run(b"1\n")), callback=False
    )
    assert reported == {"time.txt": sha(b"1\n")} and digest == sha(b"1\n")
    assert digest in digests_of_files(reported)


def test_only_the_files_under_the_deterministic_output_path_are_reported() -> None:
    contents = {"out/a.txt": b"a", "out/deep/b.txt": b"b", "log.txt": b"run-specific"}
    _, reported = digest_and_files(ComputedFile("/iexec_out/out", None, None), Files(contents), callback=False)
    assert reported == {"out/a.txt": sha(b"a")}  # a sub-folder adds nothing to the digest, as in the reference


def test_a_callback_deal_reports_no_file_and_too_many_files_are_not_reported() -> None:
    callback = ComputedFile("/iexec_out", "0x01", None)
    assert digest_and_files(callback, Files(run(b"1")), callback=True)[1] is None
    many = {f"f{i:04d}": b"x" for i in range(MAX_REPORTED_FILES + 1)}
    digest, reported = digest_and_files(FOLDER, Files(many), callback=False)
    assert reported is None and digest == result_digest(FOLDER, Files(many), callback=False)


def test_the_wire_model_takes_sha256_values_only_and_at_most_the_limit() -> None:
    assert ReplicateStatusDetails(resultFiles={"a.txt": sha(b"a")}).resultFiles == {"a.txt": sha(b"a")}
    with pytest.raises(ValidationError):
        ReplicateStatusDetails(resultFiles={"a.txt": "the contents"})
    with pytest.raises(ValidationError):
        ReplicateStatusDetails(resultFiles={f"f{i}": sha(b"x") for i in range(MAX_REPORTED_FILES + 1)})


# ----- variants and matching -----------------------------------------------------------------------
def test_variants_number_each_files_different_bytes_in_order_and_hide_the_hashes() -> None:
    reported = {W1: {"t": sha(b"1"), "c": sha(b"c")}, W2: None, W3: {"t": sha(b"2"), "c": sha(b"c")}}
    assert file_variants(reported) == {W1: {"c": 1, "t": 1}, W3: {"c": 1, "t": 2}}


def test_files_match_a_contribution_only_when_they_give_its_result_hash() -> None:
    digest, reported = digest_and_files(FOLDER, Files(run(b"1")), callback=False)
    assert reported is not None
    assert files_match(TASK, crypto.result_hash(TASK, digest), reported) is True
    lie = crypto.keccak_hex(bytes.fromhex(digest[2:]) + b"pocopool:fault:wrong-result")
    assert files_match(TASK, crypto.result_hash(TASK, lie), reported) is False
    assert (
        files_match(TASK, None, reported) is None and files_match(TASK, crypto.result_hash(TASK, digest), None) is None
    )


# ----- the disagreement and its diagnosis ----------------------------------------------------------
def replicate(wallet: str, result: bytes | None, files: dict[str, int] | None, match: bool | None = True, **extra: Any):
    history = [("CREATED", None), ("COMPUTED", None), ("CONTRIBUTED", None), *extra.pop("more", [])]
    return {
        "chainTaskId": TASK,
        "walletAddress": wallet,
        "currentStatus": history[-1][0],
        "statusUpdateList": [
            {"status": s, "date": f"2026-01-01T00:00:{i:02d}Z", **({"cause": c} if c else {})}
            for i, (s, c) in enumerate(history)
        ],
        "contributionHash": crypto.keccak_hex(result) if result is not None else None,
        "resultFiles": files,
        "resultFilesMatch": match if files is not None else None,
        **extra,
    }


def task(status: str, changes: list[str], replicates: list[dict[str, Any]], consensus: bytes | None = None) -> TaskView:
    return TaskView.model_validate(
        {
            "chainTaskId": TASK,
            "maxExecutionTime": 300_000,
            "tag": "0x" + "00" * 32,
            "dappName": "http://files/app.tar.gz",
            "trust": 3,
            "contributionDeadline": "2026-01-01T00:35:00Z",
            "finalDeadline": "2026-01-01T00:50:00Z",
            "currentStatus": status,
            "consensus": crypto.keccak_hex(consensus) if consensus else None,
            "dateStatusList": [{"status": s, "date": "2026-01-01T00:00:00Z"} for s in changes],
            "replicates": replicates,
        }
    )


CLOCK = [
    replicate(W1, b"r1", {"time.txt": 1, "constant.txt": 1}),
    replicate(W2, b"r2", {"time.txt": 2, "constant.txt": 1}),
    replicate(W3, b"r3", {"time.txt": 3, "constant.txt": 1}),
]


def test_agreeing_replicates_have_nothing_to_explain() -> None:
    same = [replicate(W1, b"r", {"a": 1}), replicate(W2, b"r", {"a": 1}), replicate(W3, None, None)]
    assert disagreement(task("RUNNING", ["RECEIVED", "RUNNING"], same)) is None


def test_an_app_that_writes_the_time_names_the_file_that_differed_and_the_fix() -> None:
    failed = task("FAILED", ["RECEIVED", "RUNNING", "CONTRIBUTION_TIMEOUT", "FAILED"], CLOCK)
    found = disagreement(failed)
    assert found is not None
    assert found["summary"] == "3 replicates contributed 3 different results; none reached the consensus."
    assert found["differingFiles"] == ["time.txt"] and found["sameFiles"] == ["constant.txt"]
    assert found["consensus"] is None and [len(g["workers"]) for g in found["results"]] == [1, 1, 1]
    assert found["origin"] == "app" and "deterministic-output-path" in found["fix"]
    assert "files that differed: time.txt" in found["facts"]
    assert all("\n" not in fact for fact in found["facts"])  # one line per fact

    diagnosis = diagnose(failed)
    assert diagnosis is not None and diagnosis["cause"] == "DIFFERENT_RESULTS" and diagnosis["stage"] == "consensus"
    assert diagnosis["summary"].startswith("The task ended CONTRIBUTION_TIMEOUT because its replicates disagreed: 3 ")
    assert diagnosis["message"] == "files that differed: time.txt" and diagnosis["differingFiles"] == ["time.txt"]
    assert "not be deterministic" in diagnosis["explanation"] and "timestamps" in diagnosis["fix"]


def test_the_winning_result_and_the_seized_stake_of_the_loser_are_named() -> None:
    lost = [("ABORTED", "CONSENSUS_REACHED")]
    reps = [
        replicate(W3, b"odd", {"time.txt": 2, "constant.txt": 1}, more=lost),
        replicate(W1, b"won", {"time.txt": 1, "constant.txt": 1}, more=[("COMPLETED", None)]),
        replicate(W2, b"won", {"time.txt": 1, "constant.txt": 1}, more=[("COMPLETED", None)]),
    ]
    done = task("COMPLETED", ["RECEIVED", "RUNNING", "COMPLETED"], reps, consensus=b"won")
    rows = [{"worker": W3, "seized": 5}, {"worker": W1, "seized": 0}, {"worker": W2, "seized": 0}]
    found = disagreement(done, rows)
    assert found is not None and found["consensus"] == crypto.keccak_hex(b"won")
    assert found["summary"] == "3 replicates contributed 2 different results; the consensus is the result of 2 of them."
    winner, loser = found["results"]
    assert winner["consensus"] and winner["workers"] == [W1, W2] and winner["seized"] == {}
    assert not loser["consensus"] and loser["workers"] == [W3] and loser["seized"] == {W3: 5}
    assert f"stake seized: 5 nRLC from {W3}, whose result lost" in found["facts"]
    assert f"result {crypto.keccak_hex(b'odd')}: 1 worker ({W3}), lost" in found["facts"]
    summary = diagnose(done)["summary"]  # type: ignore[index]
    assert summary.startswith("The task completed, but its replicates disagreed: 3 replicates")


def test_same_files_with_a_contribution_they_do_not_give_point_at_the_worker_not_the_app() -> None:
    reps = [
        replicate(W1, b"lie", {"out.txt": 1}, match=False, more=[("ABORTED", "CONSENSUS_REACHED")]),
        replicate(W2, b"ok", {"out.txt": 1}),
        replicate(W3, b"ok", {"out.txt": 1}),
    ]
    found = disagreement(task("COMPLETED", ["RECEIVED", "COMPLETED"], reps, consensus=b"ok"))
    assert found is not None and found["differingFiles"] == [] and found["filesNotMatching"] == [W1]
    assert found["origin"] == "platform" and found["component"] == "worker"
    assert f"contributed a result its own files do not give: {W1}" in found["facts"]


def test_without_reported_files_the_disagreement_still_points_at_the_app_and_says_so() -> None:
    reps = [replicate(W1, b"a", None), replicate(W2, b"b", None)]
    found = disagreement(task("RUNNING", ["RECEIVED", "RUNNING"], reps))
    assert found is not None and found["filesUnreported"] == [W1, W2] and found["differingFiles"] == []
    assert "no worker reported which files" in found["explanation"] and found["origin"] == "app"
    assert diagnose(task("RUNNING", ["RECEIVED", "RUNNING"], reps))["summary"].startswith(  # type: ignore[index]
        "Not failed (yet), but its replicates disagree"
    )


def test_an_apps_own_failure_still_comes_before_a_disagreement() -> None:
    crashed = replicate(W3, None, None, more=[("COMPUTE_FAILED", "APP_COMPUTE_FAILED")])
    failed = task("FAILED", ["RECEIVED", "RUNNING", "RUNNING_FAILED", "FAILED"], [*CLOCK[:2], crashed])
    assert diagnose(failed)["cause"] == "APP_COMPUTE_FAILED"  # type: ignore[index]
