"""Replicates that disagree, explained (issue 27.6, decision 120): pure.

With COMPUTED a worker reports the sha256 of each file its result digest read (protocol/digest.py
`digest_and_files`). The scheduler keeps these hashes and never shows them: its task view gives each
replicate's files as variants (`file_variants`: equal numbers, equal bytes) and whether the files
give the result the worker contributed (`files_match`). From that view alone, `disagreement` says
how many workers contributed which result, which one won, who lost a stake (given the consensus
rows of protocol/contributions.py), which files differed, and whether the app or a worker is the
likely cause. Only file names are ever shown: a result's contents are its beneficiary's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .causes import Component
from .crypto import InvalidHex, result_hash
from .digest import digests_of_files
from .explanations import Origin
from .views import ReplicateView, TaskView

CAUSE = "DIFFERENT_RESULTS"  # the diagnosis's cause when replicates disagree (not a replicate cause)
APP_FIX = (
    "Make the app deterministic: point deterministic-output-path in its computed.json at the files every "
    "run writes the same, keep timestamps, random values and run-specific logs out of them, and sort what it "
    "lists from folders or sets."
)
WORKER_FIX = (
    "Nothing for the requester: the consensus decides, and a worker whose result loses forfeits its stake; "
    "the workerpool's operator should check the workers named."
)


def file_variants(reported: Mapping[str, Mapping[str, str] | None]) -> dict[str, dict[str, int]]:
    """By worker (in the order given), each reported file's variant among them: 1 for the first
    sha256 seen at that path, 2 for the next different one, and so on. Workers that reported
    nothing are left out. Equal numbers mean equal bytes; the hashes themselves are not given."""
    seen: dict[str, list[str]] = {}
    variants: dict[str, dict[str, int]] = {}
    for worker, files in reported.items():
        if files is None:
            continue
        mine: dict[str, int] = {}
        for path in sorted(files):
            known = seen.setdefault(path, [])
            sha = files[path].lower()
            if sha not in known:
                known.append(sha)
            mine[path] = known.index(sha) + 1
        variants[worker] = mine
    return variants


def files_match(task_id: str, contribution_hash: str | None, files: Mapping[str, str] | None) -> bool | None:
    """Whether reported files give the contributed result hash (keccak(task id ‖ digest)); None
    while either is unknown."""
    if not contribution_hash or files is None:
        return None
    try:
        hashes = {result_hash(task_id, digest) for digest in digests_of_files(files)}
    except InvalidHex:
        return None
    return contribution_hash.lower() in hashes


def _short(wallets: Iterable[str]) -> str:
    return ", ".join(wallets)


def disagreement(task: TaskView, rows: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any] | None:
    """None unless the task's replicates contributed two results or more. Else: `summary`, the
    `results` (each contribution hash with its workers, whether it is the consensus, and the stakes
    `rows` say were seized), `differingFiles` and `sameFiles` (names), the workers whose files were
    not reported (`filesUnreported`) or do not give their contribution (`filesNotMatching`), whose
    fault it likely is (`origin`, `component`, `explanation`, `fix`), and `facts`: one line each."""
    contributed = [r for r in task.replicates if r.contributionHash]
    results: dict[str, list[ReplicateView]] = {}
    for replicate in contributed:
        results.setdefault(str(replicate.contributionHash).lower(), []).append(replicate)
    if len(results) < 2:
        return None
    consensus = (task.consensus or "").lower()
    seized: dict[str, int] = {}
    for row in rows:
        if row.get("seized"):
            seized[str(row["worker"]).lower()] = int(row["seized"])
    ordered = sorted(results.items(), key=lambda item: (item[0] != consensus, -len(item[1])))
    groups: list[dict[str, Any]] = [
        {
            "contributionHash": hash_,
            "workers": [r.walletAddress for r in members],
            "consensus": hash_ == consensus,
            "seized": {
                r.walletAddress: seized[r.walletAddress.lower()] for r in members if r.walletAddress.lower() in seized
            },
        }
        for hash_, members in ordered
    ]
    reporting = [r for r in contributed if r.resultFiles is not None]
    paths = sorted({path for r in reporting for path in r.resultFiles or {}})
    differing = [p for p in paths if len({(r.resultFiles or {}).get(p) for r in reporting}) > 1]
    same = [p for p in paths if p not in differing]
    unreported = [r.walletAddress for r in contributed if r.resultFiles is None]
    not_matching = [r.walletAddress for r in contributed if r.resultFilesMatch is False]
    won = next((g for g in groups if g["consensus"]), None)
    summary = f"{len(contributed)} replicates contributed {len(groups)} different results"
    if won is None:
        summary += "; none reached the consensus"
    else:
        summary += f"; the consensus is the result of {len(won['workers'])} of them"
    found: dict[str, Any] = {
        "summary": summary + ".",
        "consensus": won["contributionHash"] if won else None,
        "results": groups,
        "differingFiles": differing,
        "sameFiles": same,
        "filesUnreported": unreported,
        "filesNotMatching": not_matching,
    }
    found.update(_verdict(differing, not_matching, unreported))
    found["facts"] = _facts(found)
    return found


def _verdict(differing: list[str], not_matching: list[str], unreported: list[str]) -> dict[str, Any]:
    if differing:
        return {
            "origin": Origin.APP.value,
            "component": Component.APP.value,
            "explanation": "The replicates ran the same app on the same input and wrote different bytes into the "
            "files their result digest reads: the app may not be deterministic.",
            "fix": APP_FIX,
        }
    if not_matching:
        return {
            "origin": Origin.PLATFORM.value,
            "component": Component.WORKER.value,
            "explanation": "The replicates' result files were the same, but some workers contributed a result their "
            "own files do not give: a faulty or dishonest worker, not the app.",
            "fix": WORKER_FIX,
        }
    return {
        "origin": Origin.APP.value,
        "component": Component.APP.value,
        "explanation": "The replicates contributed different results and no worker reported which files it "
        "computed (a callback or TEE task, or an older worker): the app may not be deterministic.",
        "fix": APP_FIX + " For a callback, its callback-data must be the same on every run.",
    }


def _facts(found: Mapping[str, Any]) -> list[str]:
    """The disagreement in lines of one fact each, for people (CLI, dashboard)."""
    facts = [found["summary"]]
    for group in found["results"]:
        workers = group["workers"]
        word = "worker" if len(workers) == 1 else "workers"
        state = "the consensus" if group["consensus"] else ("lost" if found["consensus"] else "no consensus")
        facts.append(f"result {group['contributionHash']}: {len(workers)} {word} ({_short(workers)}), {state}")
        for wallet, amount in group["seized"].items():
            facts.append(f"stake seized: {amount} nRLC from {wallet}, whose result lost")
    if found["differingFiles"]:
        facts.append(f"files that differed: {', '.join(found['differingFiles'])}")
    if found["sameFiles"]:
        facts.append(f"files that were the same: {', '.join(found['sameFiles'])}")
    if found["filesNotMatching"]:
        facts.append(f"contributed a result its own files do not give: {_short(found['filesNotMatching'])}")
    if found["filesUnreported"]:
        facts.append(f"reported no result files: {_short(found['filesUnreported'])}")
    facts.append(f"likely cause: {found['explanation']}")
    facts.append(f"what to do: {found['fix']}")
    return facts


def disagreement_diagnosis(task: TaskView, failure: str | None) -> dict[str, Any] | None:
    """The diagnosis (protocol/diagnosis.py's shape) of replicates that disagree, or None: the task
    `failure` it ended with, if any, is named as the consequence."""
    found = disagreement(task)
    if found is None:
        return None
    status = task.currentStatus.value
    if failure:
        summary = f"The task ended {failure} because its replicates disagreed: {found['summary']}"
    elif status == "COMPLETED":
        summary = f"The task completed, but its replicates disagreed: {found['summary']}"
    else:
        summary = f"Not failed (yet), but its replicates disagree: {found['summary']}"
    if found["differingFiles"]:
        message = f"files that differed: {', '.join(found['differingFiles'])}"
    elif found["filesNotMatching"]:
        message = f"contributed a result its own files do not give: {_short(found['filesNotMatching'])}"
    else:
        message = None
    return {
        "taskStatus": status,
        "summary": summary,
        "cause": CAUSE,
        "component": found["component"],
        "origin": found["origin"],
        "replicate": None,
        "stage": "consensus",
        "message": message,
        "exitCode": None,
        "explanation": found["explanation"],
        "fix": found["fix"],
        "differingFiles": found["differingFiles"],
    }
