"""Terminal views of what protocol/ computes about a task: what it waits for, its timeline as a
text bar chart, and consensus per replicate. Builds on cli/render.py (never the other way)."""

from __future__ import annotations

from typing import Any

from ..protocol.timeline import Axis, axis
from .render import _style, console, score_line

WIDTH = 60  # characters of the time axis
# one character per stage, so that a bar reads as the sequence of stages
_MARKS = {
    "CREATED": "c",
    "STARTING": "s",
    "STARTED": "s",
    "APP_DOWNLOADING": "a",
    "APP_DOWNLOADED": "a",
    "DATA_DOWNLOADING": "d",
    "DATA_DOWNLOADED": "d",
    "COMPUTING": "C",
    "COMPUTED": "=",
    "CONTRIBUTING": "k",
    "CONTRIBUTED": "-",
    "REVEALING": "r",
    "REVEALED": "-",
    "RESULT_UPLOAD_REQUESTED": "u",
    "RESULT_UPLOADING": "u",
    "RESULT_UPLOADED": "-",
    "COMPLETING": "-",
    "COMPLETED": "#",
    # task statuses
    "RECEIVED": ".",
    "INITIALIZING": "i",
    "INITIALIZED": "i",
    "RUNNING": "=",
    "CONSENSUS_REACHED": "r",
    "AT_LEAST_ONE_REVEALED": "r",
    "FINALIZING": "f",
    "FINALIZED": "f",
    "REOPENING": "o",
    "REOPENED": "o",
}
LEGEND = (
    "c created  s starting  a app  d data  C computing  = computed/running  k contributing  "
    "r reveal  u upload  f finalize  - waiting  # completed  X failure"
)


def _fmt_left(seconds: float) -> str:
    if seconds <= 0:
        return f"passed {abs(seconds):.0f} s ago"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s left" if minutes else f"{secs} s left"


def waiting(view: dict[str, Any]) -> None:
    found = view.get("waitingFor")
    if not found:
        if view.get("claim"):
            console.print(f"  refund     the final deadline passed: [bold]{view['claim']}[/]")
        return
    console.print(f"  waiting    {found['summary']}")
    for line in found.get("details", []):
        console.print(f"             {line}")
    for deadline in found.get("deadlines", []):
        console.print(
            f"  deadline   {deadline['name']} {deadline['at']} ({_fmt_left(deadline['secondsLeft'])}): "
            f"then {deadline['whenPassed']}"
        )
    if found.get("claim"):
        console.print(f"  refund     [bold]{found['claim']}[/]")


def _bar(segments: list[dict[str, Any]], scale: Axis) -> str:
    cells = [" "] * WIDTH
    for segment in segments:
        start = int(scale.at(segment["start"]))
        end = max(int(scale.at(segment["end"])), start)
        mark = "X" if segment["failure"] else _MARKS.get(segment["status"], "=")
        style = "red" if segment["failure"] else _style(segment["status"])
        for index in range(start, end + 1):
            cells[index] = f"[{style}]{mark}[/]"
    return "".join(cells)


def _ticks(scale: Axis) -> str:
    """The axis's labels at their places: `^12.3s` marks a moment; labels that would overlap are dropped."""
    cells = [" "] * WIDTH
    free_from, last = 0, ""
    for seconds, position in scale.ticks():
        label = f"^{seconds:.1f}s" if seconds < 100 else f"^{seconds:.0f}s"
        at = min(int(position), WIDTH - len(label))
        if at < free_from or label == last:  # overlapping, or the same time to the tenth: said once
            continue
        last = label
        cells[at : at + len(label)] = list(label)
        free_from = at + len(label) + 1
    return "".join(cells)


def timeline(view: dict[str, Any]) -> None:
    data = view.get("timeline")
    if not data:
        return
    duration = max(data["duration"], 0.001)
    scale = axis(data, WIDTH - 1, 1.0)
    note = "" if scale.linear else "; not to scale: short stages are widened, the ticks give the real times"
    console.print(f"\n[bold]Timeline[/bold] (from {data['origin']}, {duration:.1f} s{note})")
    console.print(f"  {LEGEND}", markup=False)
    console.print(f"  {'':12} |{_ticks(scale)}|", markup=False)
    console.print(f"  {'task':12} |{_bar(data['task'], scale)}|")
    for replicate in data["replicates"]:
        label = (replicate["worker"] or "")[:10] + "…"
        console.print(f"  {label:12} |{_bar(replicate['stages'], scale)}| {replicate['status']}")
    failures = [(r["worker"], s) for r in data["replicates"] for s in r["stages"] if s["failure"]]
    failures += [("task", s) for s in data["task"] if s["failure"]]
    for who, segment in failures:
        cause = f" ({segment['cause']})" if segment.get("cause") else ""
        console.print(f"  [red]X[/] +{segment['start']:.1f} s {who}: {segment['status']}{cause}")


def consensus(view: dict[str, Any]) -> None:
    rows = view.get("consensus")
    if not rows:
        return
    console.print("\n[bold]Consensus per replicate[/bold]")
    for row in rows:
        agrees = {True: "[green]agrees[/]", False: "[red]differs[/]", None: "-"}[row["agrees"]]
        money = []
        if row["reward"]:
            money.append(f"[green]reward {row['reward']}[/]")
        if row["seized"]:
            money.append(f"[red]seized {row['seized']}[/]")
        console.print(
            f"  {row['worker']}  {row['contributionHash'] or 'no contribution':66}  {agrees:8}  "
            f"{'revealed' if row['revealed'] else 'not revealed'}  {' '.join(money) or 'nothing paid'}"
        )
        console.print(f"    {score_line(row)}")


def disagreement(view: dict[str, Any]) -> None:
    """Replicates that contributed different results (protocol/disagreement.py): one fact a line."""
    found = view.get("disagreement")
    if not found:
        return
    console.print("\n[bold]Disagreement[/bold]")
    # When the disagreement is the diagnosis, its likely cause and fix were printed there already.
    said = (view.get("diagnosis") or {}).get("cause") == "DIFFERENT_RESULTS"
    for fact in found["facts"]:
        if not (said and fact.startswith(("likely cause: ", "what to do: "))):
            console.print(f"  {fact}", markup=False)
