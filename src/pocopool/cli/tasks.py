"""`pocopool task show|debug|claim|download` and `deal show`: follow, debug and download what was bought."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..client.errors import BadInput
from ..client.files import folder_to_fill
from . import render
from .common import HomeOption, JsonOption, KeyOption, emit, fail, handled
from .context import open_context

task_app = typer.Typer(help="Follow, debug and download tasks.", no_args_is_help=True)
deal_app = typer.Typer(help="Inspect deals.", no_args_is_help=True)


# ----- tasks and deals ---------------------------------------------------------------------------
@task_app.command("show")
@handled
def task_show(
    task_id: str = typer.Argument(..., metavar="ID"),
    watch: bool = typer.Option(False, "--watch", help="Follow the task live until it is final (exit 0 if COMPLETED)."),
    timeout: float = typer.Option(600.0, "--timeout", help="With --watch: give up after this many seconds."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """A task's off-chain and on-chain status, its replicates, and what it is waiting for."""
    from ..client.follow import Timeout, task_insight
    from . import timeline
    from . import watch as live

    ctx = open_context(home, None)
    try:
        if watch:
            try:
                view = live.watch_task(ctx.requester, task_id, timeout=timeout, quiet=as_json)
            except Timeout as error:
                fail(f"task {task_id} is still {error.view['status']} after {timeout:.0f} s")
        else:
            view = task_insight(ctx.requester, ctx.requester.task_view(task_id), consensus=False)
    finally:
        ctx.close()

    def human(shown: dict[str, Any]) -> None:
        render.task_summary(shown)
        timeline.waiting(shown)

    emit(view, as_json, human)
    if watch and view["status"] != "COMPLETED":
        raise typer.Exit(1)


@task_app.command("debug")
@handled
def task_debug(
    task_id: str = typer.Argument(..., metavar="ID"),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
    logs: bool = typer.Option(False, "--logs", help="Also show each worker's app logs (requester only)."),
    key: Path | None = KeyOption,
) -> None:
    """Everything known of a task: statuses, histories, causes, deadlines, what it waits for, timeline,
    consensus per replicate, and with --logs each worker's stdout/stderr."""
    from ..client.follow import task_insight
    from ..client.logs import task_logs
    from ..protocol.crypto import key_hex
    from . import timeline

    ctx = open_context(home, key)
    try:
        view = task_insight(ctx.requester, ctx.requester.task_view(task_id))
        if logs:
            found = task_logs(
                ctx.requester.http, ctx.requester.scheduler_url, key_hex(ctx.requester.account), view["taskId"]
            )
            for replicate in view["replicates"]:
                replicate["logs"] = found.get(replicate["worker"], {"stdout": "", "stderr": ""})
    finally:
        ctx.close()

    def human(v: dict[str, Any]) -> None:
        render.task_debug(v)
        timeline.waiting(v)
        timeline.consensus(v)
        timeline.disagreement(v)
        timeline.timeline(v)

    emit(view, as_json, human)


@task_app.command("claim")
@handled
def task_claim(
    task_id: str = typer.Argument(..., metavar="ID"),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
    key: Path | None = KeyOption,
) -> None:
    """Claim a failed task on chain once its final deadline is reached: the requester is refunded."""
    ctx = open_context(home, key)
    try:
        result = ctx.requester.claim(task_id)
    finally:
        ctx.close()
    emit(
        result,
        as_json,
        lambda r: render.console.print(
            f"task {r['taskId']} claimed in block {r['block']}: {r['refunded']} nRLC refunded to {r['refundedTo']}"
        ),
    )


@task_app.command("download")
@handled
def task_download(
    task_id: str = typer.Argument(..., metavar="ID"),
    directory: Path = typer.Argument(..., metavar="DIR", help="Where to unpack the result."),
    decrypt: bool = typer.Option(False, "--decrypt", help="Decrypt an encrypted (TEE) result."),
    key_file: Path | None = typer.Option(
        None, "--key-file", dir_okay=False, help="With --decrypt: the beneficiary's private key (PEM)."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
    key: Path | None = KeyOption,
) -> None:
    """Download a completed task's result (as the deal's beneficiary) and unpack it into DIR."""
    from ..client.confidential import read_private_key

    if decrypt != (key_file is not None):
        raise BadInput("--decrypt and --key-file go together: the private key opens the encrypted result")
    folder_to_fill(directory, "the result")
    private_key = read_private_key(key_file) if key_file is not None else None
    ctx = open_context(home, key)
    try:
        result = ctx.requester.download(task_id, directory, private_key=private_key)
    finally:
        ctx.close()
    emit(
        result,
        as_json,
        lambda r: render.console.print(f"result of {r['taskId']} in {r['directory']}: {', '.join(r['files'])}"),
    )


@deal_app.command("show")
@handled
def deal_show(
    deal_id: str = typer.Argument(..., metavar="ID"),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
    watch: bool = typer.Option(
        False, "--watch", help="Follow the deal live until every task is final (exit 0 if all COMPLETED)."
    ),
    timeout: float = typer.Option(600.0, "--timeout", help="With --watch: give up after this many seconds."),
) -> None:
    """A deal's terms and the status of each of its tasks."""
    from ..client.follow import Timeout
    from . import watch as live

    ctx = open_context(home, None)
    try:
        if watch:
            try:
                view = live.watch_deal(ctx.requester, deal_id, timeout=timeout, quiet=as_json)
            except Timeout as error:
                fail(f"deal {deal_id} still has unfinished tasks after {timeout:.0f} s: {error.view['counts']}")
        else:
            view = ctx.requester.deal_view(deal_id)
    finally:
        ctx.close()
    emit(view, as_json, render.deal_summary)
    if watch and any(task["status"] != "COMPLETED" for task in view["tasks"]):
        raise typer.Exit(1)
