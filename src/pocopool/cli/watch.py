"""`task show ID --watch` and `deal show ID --watch`: a live view fed by the scheduler's event stream.

On a terminal the view is redrawn in place (rich Live); otherwise one line is printed per change,
so logs and CI output stay readable. The command returns the final view; the caller exits 0 if
every task COMPLETED, 1 otherwise.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..client.errors import NotFound
from ..client.follow import follow, is_bought, task_insight
from ..client.sdk import Requester
from ..protocol.time import parse_time
from .render import _style, console

FINAL = ("COMPLETED", "FAILED")


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(max(seconds, 0)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _since(date: str | None, now: float) -> str:
    moment = parse_time(date)
    return _elapsed(now - moment) if moment is not None else "-"


def task_panel(view: dict[str, Any], started: float) -> Group:
    now = time.time()
    first = view["statusHistory"][0]["date"] if view["statusHistory"] else None
    head = Text.from_markup(
        f"task [bold]{view['taskId']}[/]  [{_style(view['status'])}]{view['status']}[/]  on chain {view['onchainStatus']}"
        f"  elapsed {_since(first, now)} (watching {_elapsed(now - started)})"
    )
    table = Table(box=None, pad_edge=False)
    for column in ("worker", "stage", "in stage for", "cause"):
        table.add_column(column)
    for replicate in view["replicates"]:
        last = replicate["statusHistory"][-1] if replicate["statusHistory"] else {}
        cause = next((u["cause"] for u in reversed(replicate["statusHistory"]) if u.get("cause")), "") or ""
        table.add_row(
            replicate["worker"],
            f"[{_style(replicate['status'])}]{replicate['status']}[/]",
            _since(last.get("date"), now),
            cause,
        )
    parts: list[Any] = [head, table]
    waiting = view.get("waitingFor")
    if waiting:
        parts.append(Text(f"waiting for: {waiting['summary']}"))
    return Group(*parts)


def deal_panel(view: dict[str, Any], started: float) -> Group:
    now = time.time()
    counts = "  ".join(f"[{_style(s)}]{s}[/] {n}" for s, n in sorted(view["counts"].items()))
    head = Text.from_markup(
        f"deal [bold]{view['dealId']}[/]  {len(view['tasks'])} task(s)  {counts}"
        f"  elapsed {_since(view.get('startTime'), now)} (watching {_elapsed(now - started)})"
    )
    table = Table(box=None, pad_edge=False)
    for column in ("index", "task", "status", "on chain"):
        table.add_column(column)
    for task in view["tasks"]:
        table.add_row(
            str(task["taskIndex"]),
            task["taskId"],
            f"[{_style(task['status'])}]{task['status']}[/]",
            task["onchainStatus"],
        )
    return Group(head, table)


def _task_line(view: dict[str, Any]) -> str:
    """One line per change when the output is not a terminal: the status, each replicate's, and
    what the task waits for (the terminal's panel says the same)."""
    line = f"{time.strftime('%H:%M:%S')} {view['status']} " + " ".join(
        f"[{r['worker'][:10]} {r['status']}]" for r in view["replicates"]
    )
    waiting = view.get("waitingFor")
    return f"{line} — waiting for: {waiting['summary']}" if waiting else line


def _deal_line(view: dict[str, Any]) -> str:
    return f"{time.strftime('%H:%M:%S')} " + " ".join(f"{s}={n}" for s, n in sorted(view["counts"].items()))


class _Live:
    """Rendered again at each refresh, so that the elapsed times tick between events."""

    def __init__(self, panel: Any, started: float) -> None:
        self.panel, self.started = panel, started
        self.view: dict[str, Any] | None = None

    def __rich__(self) -> Any:
        return self.panel(self.view, self.started) if self.view is not None else Text("connecting…")


def _watch(
    requester: Requester,
    params: dict[str, str],
    fetch: Any,
    is_final: Any,
    panel: Any,
    line: Any,
    timeout: float,
    quiet: bool,
) -> dict[str, Any]:
    started = time.time()
    if quiet:
        return follow(requester.scheduler_url, params, fetch, is_final, lambda view: None, timeout=timeout)
    if console.is_terminal:
        screen = _Live(panel, started)
        with Live(screen, console=console, refresh_per_second=4, transient=False):

            def show(view: dict[str, Any]) -> None:
                screen.view = view

            return follow(requester.scheduler_url, params, fetch, is_final, show, timeout=timeout)
    printed: list[str] = []

    def print_changes(view: dict[str, Any]) -> None:
        text = line(view)
        if not printed or text.split(" ", 1)[1] != printed[-1].split(" ", 1)[1]:
            console.print(text, markup=False)
            printed.append(text)

    return follow(requester.scheduler_url, params, fetch, is_final, print_changes, timeout=timeout)


def watch_task(requester: Requester, task_id: str, *, timeout: float, quiet: bool) -> dict[str, Any]:
    """Raises NotFound at once for a task that neither the scheduler nor any deal on chain knows."""
    bought = False

    def fetch() -> dict[str, Any]:
        nonlocal bought
        try:
            return task_insight(requester, requester.task_view(task_id), consensus=False)
        except NotFound:
            bought = bought or is_bought(requester.chain, task_id)
            if not bought:
                raise NotFound(
                    f"task {task_id} is unknown: the scheduler has not seen it and no deal on chain holds it"
                ) from None
            # just bought: on chain in its deal, but not yet seen by the scheduler nor initialized
            return {
                "taskId": task_id,
                "status": "UNKNOWN",
                "onchainStatus": "UNSET",
                "statusHistory": [],
                "replicates": [],
                "final": False,
            }

    return _watch(requester, {"task": task_id}, fetch, lambda v: v["final"], task_panel, _task_line, timeout, quiet)


def deal_final(view: dict[str, Any]) -> bool:
    return bool(view["tasks"]) and all(task["status"] in FINAL for task in view["tasks"])


def watch_deal(requester: Requester, deal_id: str, *, timeout: float, quiet: bool) -> dict[str, Any]:
    return _watch(
        requester,
        {"deal": deal_id},
        lambda: requester.deal_view(deal_id),
        deal_final,
        deal_panel,
        _deal_line,
        timeout,
        quiet,
    )
