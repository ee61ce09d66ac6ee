"""docs/debugging.md, generated from protocol/ so the doc can never drift from the code.

`python -m pocopool.protocol.docs > docs/debugging.md` rewrites it; a test checks it is current.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .applogs import KIB, LOG_OPTION, MAX_LOG_BYTES, RESULT_LOG_BYTES, SHOWN_LINES, WORKER_SETTING, LogCut
from .explanations import TASK_FAILURES, explain_cause
from .proofs import CAUSES, TASK_CAUSES, TASK_STATUSES, Proof, Proven, Unreachable
from .statuses import ChainTaskStatus, ReplicateStatus, TaskStatus
from .statuses import ReplicateStatusCause as C
from .task_causes import WRITTEN_WITH, TaskFailureCause
from .task_explanations import explain_task_cause

WALKTHROUGH = """\
## Debugging a failed task, step by step

Some mistakes never become a task: `pocopool run` refuses, with one line and before anything is
bought, what no worker could run (`--args` a shell cannot split, an `--input-file` that is not an
http(s) URL, an app, a dataset or a category the chain does not hold). `pocopool task show ID
--watch` says at once that a task is unknown when no deal on chain holds it; a task just bought is
waited for until the scheduler sees its deal.

1. **Ask the task.** `pocopool task debug <task id>` starts with a diagnosis: the decisive
   failure (which replicate, which stage, which cause), whose fault it is (the app's, the inputs',
   the platform's, or a normal outcome of the protocol), the underlying error (HTTP status and
   URL, exit code or signal, the chain's rule, the checksum expected and found), what it means and
   what to do. `--json` gives the same under `"diagnosis"`.
2. **Read the histories.** Below the diagnosis, the task's statuses and each replicate's stages
   are listed on one time axis (time since the deal was seen), each failure with its cause and
   its message. A replicate that ended ABORTED or FAILED names the cause the scheduler gave.
3. **Tell the app's errors from the platform's.** `origin` is `app` when the app itself failed
   (exit code, time limit, missing or wrong computed.json, file names); `input` when what you
   supplied is wrong (the bundle's or the dataset's URL or checksum, an input file); `platform`
   when a worker, the result store or the chain failed; `protocol` for normal outcomes such as
   a worker that lost the race for consensus.
4. **What a running task waits for.** `task show` and `task debug` say for whom, until when, and
   what follows: the workers still computing and the contribution deadline; the winners that have
   not revealed and the reveal deadline, after which they lose the task's stake and the finalize
   goes on with the reveals there are; the transaction pending and what comes after it.
5. **A failure every worker meets ends the task at once.** When every alive worker has failed a
   task before computing for a cause of the app or its input, the task ends RUNNING_FAILED
   (`ALL_ALIVE_WORKERS_FAILED`) instead of waiting out its contribution deadline. A replicate that
   stopped after its own failure says that failure, never UNKNOWN.
6. **Replicates that disagree.** When workers contribute different results, the diagnosis is
   `DIFFERENT_RESULTS`: who computed which result, which won, whose stake was seized, which files
   differed (by name; never their content), and whether the app (not deterministic) or a worker is
   the likely cause.
7. **A task can complete with an error result.** When a download fails, the workers still agree
   on an error report (`error.txt` in the result) so that the task ends quickly and you learn
   why: `task debug` says so, and `task download` gives you the report.
8. **Look up any word.** `pocopool explain <STATUS or CAUSE>` prints the entry of this page.
9. **Get your money back.** A FAILED task can be claimed once its final deadline has passed:
   `pocopool task claim <task id>` refunds the requester on chain.

Example: a dataset whose file was changed after it was deployed.

```
$ pocopool task debug 0x5c75…
Diagnosis
  The task completed, but its result is an error report: DATASET_FILE_BAD_CHECKSUM at data download.
  cause        DATASET_FILE_BAD_CHECKSUM (replicate 0x75E0…, stage data download)
  whose        input (storage)
  error        dataset checksum mismatch: expected 0x9f…, found 0x21…
  meaning      The dataset file served at its URL differs from the one registered on chain (checksum mismatch).
  what to do   Deploy the dataset again, or restore the original file at its URL.
```
"""


def _logs_and_scores() -> str:
    """What `task debug --logs` shows of an app's output, and the scores beside the consensus, with
    the limits and the marker as the code has them (protocol/applogs.py, spec/poco.md §8)."""
    example = LogCut(4_897_600, 51_234, 102_390, RESULT_LOG_BYTES, WORKER_SETTING).marker()
    return f"""\
## The app's logs: what is kept

`pocopool task debug <task id> --logs` (the deal's requester only) shows each worker's stdout and
stderr of the app. Each stream is kept to a limit: its **end** (where an app says how it ended or
failed), from a line start when one is in the first half of what is kept (a longer line is cut
inside). A stream that was cut starts with one line that says so, and `--json` gives the same
under `stdoutCut` / `stderrCut` (`droppedBytes`, `droppedLines`, `keptBytes`, `limitBytes`,
`setting`, `where`, `midLine`):

```
{example}
```

| what | kept of each stream | set by |
|---|---|---|
| what a worker reports to the scheduler | {RESULT_LOG_BYTES // KIB} KiB by default, at most {MAX_LOG_BYTES // KIB} KiB | the worker option `{LOG_OPTION}` |
| what the scheduler keeps of a report | {MAX_LOG_BYTES // KIB} KiB | fixed (a worker reporting more is cut again) |
| `stdout.txt` and `stderr.txt` in the result | {RESULT_LOG_BYTES // KIB} KiB | fixed: the files are part of the result digest, so every worker must cut alike |

The terminal shows the last {SHOWN_LINES} lines of each stream and says how many it left out; `--json` has
all that the scheduler kept. Without `--logs`, `task debug` and the dashboard still say which logs
were cut and how much (never what they hold).

## Worker scores and weights

`task debug` (under "Consensus per replicate", `--json` key `consensus`) and the dashboard show,
for each worker that contributed: its **weight** in the consensus, max(score // 3, 3) − 1 (so at
least 2; the weights of the workers that agree multiply, spec/poco.md §8.2), computed from its
**score** when its contribution was recorded (`scoreBefore`); its score on chain now (`scoreAfter`);
and what this task did to it (`scoreChange`): `+1` for a revealed winner of a task with several
contributors, `×2/3` (rounded down) for a wrong or unrevealed contribution, `none` for a single
contributor or a claimed task, and nothing until the task is finalized.
"""


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _task_causes() -> list[str]:
    lines = [
        "",
        "## Task failure causes",
        "",
        "A failed task's history gives, beside its failure status, the scheduler's cause (`task debug`",
        "shows it, `--json` under `cause`). A transaction of the scheduler the ledger refused gives the",
        "cause named after the chain's rule (`task-has-reveals` is `TASK_HAS_REVEALS`); the message",
        "keeps the rule as the chain spells it.",
        "",
        "| cause | written with | meaning | whose | what it means | what to do | proof |",
        "|---|---|---|---|---|---|---|",
    ]
    for cause in TaskFailureCause:
        e = explain_task_cause(cause)
        statuses = ", ".join(f"`{s.value}`" for s in WRITTEN_WITH[cause])
        lines.append(
            f"| `{cause.value}` | {statuses} | {_escape(cause.description)} | {e.origin.value} ({e.component.value}) "
            f"| {_escape(e.explanation)} | {_escape(e.fix)} | {_escape(_proof(TASK_CAUSES[cause]))} |"
        )
    return lines


def _proof(proof: Proof) -> str:
    if isinstance(proof, Proven):
        return f"proven by `{proof.test}`"
    return f"cannot occur: {proof.reason}"


def _counts() -> str:
    """How many causes and task statuses are proven, and how many cannot occur."""

    def count(registry: Mapping[Any, Proof]) -> str:
        kinds = [(Proven, "proven by a test"), (Unreachable, "cannot occur here")]
        return ", ".join(f"{sum(isinstance(p, kind) for p in registry.values())} {said}" for kind, said in kinds)

    return (
        f"Proof ({len(CAUSES)} replicate causes: {count(CAUSES)}; {len(TASK_STATUSES)} task statuses: "
        f"{count(TASK_STATUSES)}; {len(TASK_CAUSES)} task causes: {count(TASK_CAUSES)}): each row below names the test that provokes it, or says why it cannot occur."
    )


def render() -> str:
    lines = [
        "# Debugging tasks",
        "",
        "<!-- Generated by `python -m pocopool.protocol.docs` from src/pocopool/protocol/: do not edit by hand. -->",
        "",
        "Every task and every replicate (one worker's run of a task) goes through the statuses below, and",
        "every failure carries a cause. `pocopool task debug ID` shows them with times, messages and a",
        "diagnosis; `pocopool explain NAME` prints any entry of this page.",
        "",
        _counts(),
        "",
        WALKTHROUGH,
        _logs_and_scores(),
        "## Task statuses",
        "",
        "| status | meaning | when it is a failure: whose, and what to do | proof |",
        "|---|---|---|---|",
    ]
    for status in TaskStatus:
        failure = TASK_FAILURES.get(status)
        extra = f"{failure.origin.value} ({failure.component.value}): {failure.fix}" if failure else ""
        lines.append(
            f"| `{status.value}` | {_escape(status.description)} | {_escape(extra)} | {_escape(_proof(TASK_STATUSES[status]))} |"
        )
    lines += _task_causes()
    lines += ["", "## On-chain task statuses", "", "| status | meaning |", "|---|---|"]
    lines += [f"| `{s.value}` | {_escape(s.description)} |" for s in ChainTaskStatus]
    lines += ["", "## Replicate statuses", "", "| status | meaning |", "|---|---|"]
    lines += [f"| `{s.value}` | {_escape(s.description)} |" for s in ReplicateStatus]
    lines += [
        "",
        "## Failure causes",
        "",
        "`origin`: `app` (the app failed), `input` (what the requester or an asset owner supplied),",
        "`platform` (a worker, the scheduler, the chain or the result store), `protocol` (a normal",
        "outcome, not a fault). `proof`: the test that provokes the cause for real and asserts it, or why",
        "pocopool (with tee-sim, the simulated enclave) cannot meet it, or how it is still to be provoked",
        "(protocol/proofs.py).",
        "",
        "| cause | meaning | whose | what it means | what to do | proof |",
        "|---|---|---|---|---|---|",
    ]
    for cause in C:
        e = explain_cause(cause)
        lines.append(
            f"| `{cause.value}` | {_escape(cause.description)} | {e.origin.value} ({e.component.value}) "
            f"| {_escape(e.explanation)} | {_escape(e.fix)} | {_escape(_proof(CAUSES[cause]))} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
