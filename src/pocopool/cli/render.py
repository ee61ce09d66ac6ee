"""Human views of tasks and deals for the terminal (the JSON views are the SDK's dicts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..protocol.applogs import SHOWN_LINES, describe_cut
from ..protocol.contributions import describe_score_change
from ..protocol.statuses import ReplicateStatus, ReplicateStatusCause, TaskStatus
from ..protocol.tee import SIMULATION_LABEL
from ..protocol.time import parse_time

console = Console(highlight=False, soft_wrap=True)

_GOOD = {"COMPLETED", "FINALIZED", "CONTRIBUTED", "REVEALED", "RESULT_UPLOADED", "COMPUTED"}


def _style(status: str) -> str:
    if status in _GOOD:
        return "green"
    if (
        status.endswith("FAILED")
        or status in ("FAILED", "WORKER_LOST", "ABORTED")
        or "TIMEOUT" in status
        or "DEADLINE" in status
    ):
        return "red"
    return "yellow"


def _describe(status: str, kind: type) -> str:
    try:
        return kind(status).description
    except ValueError:
        return ""


def task_summary(view: dict[str, Any]) -> None:
    status = view["status"]
    found = view.get("diagnosis")
    console.print(f"Task [bold]{view['taskId']}[/bold]")
    console.print(f"  status     [{_style(status)}]{status}[/] — {_describe(status, TaskStatus)}")
    console.print(f"  on chain   {view['onchainStatus']}")
    if view.get("dealId"):
        console.print(f"  deal       {view['dealId']} (task index {view.get('taskIndex')})")
    for replicate in view["replicates"]:
        last_cause = next((u["cause"] for u in reversed(replicate["statusHistory"]) if u.get("cause")), None)
        cause = f" ({last_cause})" if last_cause else ""
        console.print(
            f"  replicate  {replicate['worker']}  [{_style(replicate['status'])}]{replicate['status']}[/]{cause}"
        )
    if found:
        console.print(f"  why        {found['summary']}")
        console.print(f"  fix        {found['fix']}")


def _history_lines(entries: list[dict[str, Any]], origin: float | None, kind: type) -> None:
    for entry in entries:
        when = parse_time(entry["date"])
        clock = datetime.fromtimestamp(when, UTC).strftime("%H:%M:%S.%f")[:-3] if when is not None else entry["date"]
        elapsed = f"+{when - origin:7.3f}s" if when is not None and origin is not None else ""
        status = entry["status"]
        line = f"  {clock} {elapsed}  [{_style(status)}]{status:<31}[/]"
        cause = entry.get("cause")
        if cause:
            line += f" [red]{cause}[/]: {_describe(cause, ReplicateStatusCause)}"
        else:
            line += f" {_describe(status, kind)}"
        console.print(line)
        several = entry.get("causes") or []
        if len(several) > 1:  # each cause with its own message, not the joined one (decision 122)
            console.print(f"  {'':22}  ↳ {len(several)} causes:")
            for each in several:
                console.print(f"  {'':22}    [red]{each['cause']}[/]: {each.get('message') or ''}")
        elif entry.get("message"):
            console.print(f"  {'':22}  ↳ {entry['message']}")


def diagnosis(view: dict[str, Any]) -> None:
    found = view.get("diagnosis")
    if not found:
        return
    console.print("\n[bold]Diagnosis[/bold]")
    console.print(f"  {found['summary']}")
    where = (
        f"replicate {found['replicate']}, stage {found['stage']}"
        if found.get("replicate")
        else f"stage {found['stage']}"
    )
    console.print(f"  cause        [red]{found['cause']}[/] ({where})")
    console.print(f"  whose        {found['origin']} ({found['component']})")
    if found.get("message"):  # a disagreement has no error: what it found is the evidence
        label = "evidence" if "differingFiles" in found else "error"
        console.print(f"  {label:<12} {found['message']}")
    console.print(f"  meaning      {found['explanation']}")
    console.print(f"  what to do   [bold]{found['fix']}[/]")


def task_debug(view: dict[str, Any]) -> None:
    task_summary(view)
    diagnosis(view)
    onchain = view["onchain"]
    console.print("\n[bold]Deadlines[/bold]")
    for name in ("contributionDeadline", "revealDeadline", "finalDeadline"):
        if onchain.get(name):
            console.print(f"  {name:22} {onchain[name]}")
    console.print("\n[bold]On chain[/bold]")
    console.print(f"  consensus    {onchain['consensusValue']}")
    console.print(f"  reveals      {onchain['revealCounter']} of {onchain['winnerCounter']} winners")
    console.print(f"  contributors {', '.join(onchain['contributors']) or '-'}")
    if onchain.get("results"):
        console.print(f"  results      {onchain['results']}")
    origin = parse_time(view["statusHistory"][0]["date"]) if view["statusHistory"] else None
    console.print("\n[bold]Task history[/bold] (time, since the deal was seen, status)")
    _history_lines(view["statusHistory"], origin, TaskStatus)
    for replicate in view["replicates"]:
        exit_code = f", exit code {replicate['exitCode']}" if replicate.get("exitCode") is not None else ""
        console.print(f"\n[bold]Replicate of {replicate['worker']}[/bold] ({replicate['status']}{exit_code})")
        _history_lines(replicate["statusHistory"], origin, ReplicateStatus)
        logs_cut(replicate)
        logs(replicate)


SHOWN_STAGE_LINES = SHOWN_LINES // 2  # of each TEE stage's stream


def _stream(label: str, text: str, cut: dict[str, Any] | None, shown: int, prefix: str) -> None:
    """One stream of a log: its cut said first (its marker line is not repeated), then its last lines."""
    body = text.split("\n", 1)[1] if cut and "\n" in text else ("" if cut else text)
    lines = body.rstrip("\n").splitlines()
    console.print(f"  [bold]{label}[/bold]{' (empty)' if not text else ''}")
    if cut:
        console.print(f"    [yellow]{escape(describe_cut(cut))}[/]")
    if len(lines) > shown:
        console.print(f"    [yellow]{len(lines) - shown:,} earlier lines not shown here (--json has them all)[/]")
    for line in lines[-shown:]:
        console.out(f"    {prefix}| {line}", highlight=False)  # app output: never read as markup


def logs(replicate: dict[str, Any]) -> None:
    """A replicate's app logs (`task debug --logs`); nothing when they were not asked for."""
    found = replicate.get("logs")
    if found is None:
        return
    for stream in ("stdout", "stderr"):
        _stream(stream, found.get(stream) or "", found.get(f"{stream}Cut"), SHOWN_LINES, "")
    for stage in found.get("teeStages") or []:
        code = stage.get("exitCode")
        console.print(
            f"  [bold]TEE {stage.get('stage')}[/bold] ({SIMULATION_LABEL}), exit code {'-' if code is None else code}"
        )
        for stream in ("stdout", "stderr"):
            text = stage.get(stream) or ""
            if text:
                _stream(f"  {stream}", text, stage.get(f"{stream}Cut"), SHOWN_STAGE_LINES, stream[3:])


def logs_cut(replicate: dict[str, Any]) -> None:
    """Without --logs: which of the replicate's stored logs were cut (the logs are the requester's)."""
    if replicate.get("logs") is not None:
        return
    for stream, cut in (replicate.get("logsCut") or {}).items():
        console.print(f"  [yellow]{stream} log {escape(describe_cut(cut))}[/]")


def score_line(row: dict[str, Any]) -> str:
    """A consensus row's weight and score (protocol/contributions.py) in one line."""
    now = row.get("scoreAfter")
    if row.get("weight") is None:
        return f"no contribution, no weight; score now {'?' if now is None else now}"
    before = row.get("scoreBefore")
    effect = describe_score_change(row.get("scoreChange"))
    return (
        f"weight {row['weight']} in the consensus; score {'?' if before is None else before} at contribution "
        f"→ {'?' if now is None else now} now (this task: {effect})"
    )


def deal_summary(view: dict[str, Any]) -> None:
    console.print(f"Deal [bold]{view['dealId']}[/bold]")
    console.print(f"  app {view['app']}  dataset {view['dataset']}  workerpool {view['workerpool']}")
    console.print(
        f"  trust {view['trust']}  category {view['category']}  tasks {view['botSize']}  started {view['startTime']}"
    )
    console.print("  " + "  ".join(f"{status}: {count}" for status, count in sorted(view["counts"].items())))
    table = Table()
    table.add_column("index")
    table.add_column("task id", overflow="fold")
    table.add_column("status")
    table.add_column("on chain")
    for task in view["tasks"]:
        table.add_row(
            str(task["taskIndex"]),
            task["taskId"],
            f"[{_style(task['status'])}]{task['status']}[/]",
            task["onchainStatus"],
        )
    console.print(table)


__all__ = ["console", "task_summary", "task_debug", "deal_summary", "logs", "score_line", "ReplicateStatus"]
