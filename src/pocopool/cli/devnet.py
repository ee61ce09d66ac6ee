"""`pocopool devnet start|restart|status|stop`: a whole local pool (chain, scheduler, result store, SMS,
file server, workers) in one folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..client.errors import BadInput
from ..devnet import manager
from . import render
from .common import HomeOption, JsonOption, emit, handled

devnet_app = typer.Typer(
    help="Start, inspect and stop a local pocopool (chain, scheduler, result store, workers).", no_args_is_help=True
)


# ----- devnet ------------------------------------------------------------------------------------
@devnet_app.command("start")
@handled
def devnet_start(
    home: Path = typer.Option(..., "--home", envvar="POCOPOOL_HOME", help="Folder for the devnet (created if absent)."),
    workers: int = typer.Option(2, "--workers", help="How many worker processes."),
    slots: int = typer.Option(2, "--slots", help="Replicates each worker runs at once."),
    runtime: str = typer.Option("sandbox", "--runtime", help="sandbox (bubblewrap) or process."),
    database: str | None = typer.Option(
        None, "--db", envvar="POCOPOOL_DATABASE_URL", help="Scheduler database URL (default: SQLite in the home)."
    ),
    fault: list[str] = typer.Option([], "--fault", help="INDEX:KIND fault for worker INDEX (repeatable)."),
    chain: str = typer.Option(
        "local", "--chain", help="local (LocalChain file, default) or evm (PocoLedger contract on an EVM node)."
    ),
    rpc_url: str | None = typer.Option(
        None, "--rpc-url", help="With --chain evm: this JSON-RPC node instead of the built-in one."
    ),
    tee_workers: int = typer.Option(
        0,
        "--tee-workers",
        help="How many of the workers (the last ones) also run TEE "
        "tasks, on tee-sim: a SIMULATED enclave, no SGX/TDX hardware.",
    ),
    app_limit: list[str] = typer.Option(
        [],
        "--app-limit",
        help="NAME=N limit of each app run on every worker "
        "(memory-mb, max-processes, output-mb, tmp-mb, cpu-seconds, log-kb; repeatable): "
        "passed as the worker option --app-NAME.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Start chain, scheduler, result store, SMS, file server and N workers; return when all answer.
    On a home whose devnet runs but lost processes, start those again instead (as `devnet restart`)."""
    if manager.partly_running(home) and (restarted := manager.restart_dead(home)):
        _say_restarted(home, restarted, as_json)
        return
    if chain not in ("local", "evm"):
        raise BadInput(f"--chain must be local or evm, got {chain!r}")
    if rpc_url and chain != "evm":
        raise BadInput("--rpc-url needs --chain evm")
    state = manager.start(
        home,
        manager.Options(
            workers=workers,
            slots=slots,
            runtime=runtime,
            database_url=database,
            faults=tuple(fault),
            chain=chain,
            rpc_url=rpc_url,
            tee_workers=tee_workers,
            app_limits=tuple(app_limit),
        ),
    )
    view = manager.status(Path(state.home))
    emit(
        view,
        as_json,
        lambda v: render.console.print(
            f"devnet running in {v['home']}\n  scheduler {v['scheduler']}\n  results   {v['results']}\n  sms       {v.get('sms')}\n"
            f"  files     {v['files']}\n  workers   {len(v['workers'])} "
            f"({sum(1 for w in v['workers'] if w.get('tee'))} on tee-sim, a simulated enclave)\n"
            f"next: pocopool app deploy examples/apps/hello --home {v['home']}"
        ),
    )


def _say_restarted(home: Path, restarted: list[str], as_json: bool) -> None:
    view = {**manager.status(home), "restarted": restarted}
    emit(
        view,
        as_json,
        lambda v: render.console.print(
            f"restarted {', '.join(v['restarted']) or 'nothing'} in {v['home']} (same ports, ledger and database)"
        ),
    )


@devnet_app.command("restart")
@handled
def devnet_restart(
    names: list[str] = typer.Argument(
        None,
        help="Processes to restart: scheduler, results, sms, files, evmnode, worker-N (default: every one that died).",
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Start processes of a running devnet again, on the same ports, ledger, database and work folders:
    the named ones (stopped first if they run), or every one that died. Workers resume their replicates."""
    if home is None:
        raise BadInput("say which devnet: --home DIR (or POCOPOOL_HOME)")
    restarted = manager.restart(home, list(names)) if names else manager.restart_dead(home)
    _say_restarted(home, restarted, as_json)


@devnet_app.command("status")
@handled
def devnet_status(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """Where the devnet's services are and whether each process is running."""
    if home is None:
        raise BadInput("say which devnet: --home DIR or POCOPOOL_HOME")
    view = manager.status(home)

    def human(v: dict[str, Any]) -> None:
        render.console.print(f"devnet {v['home']}: {'running' if v['running'] else 'stopped'}")
        for name in ("scheduler", "results", "files", "sms"):
            render.console.print(f"  {name:9} {v[name]}")
        for w in v["workers"]:
            render.console.print(
                f"  {w['name']:9} {w['wallet']} pid {w['pid']} {'alive' if w['alive'] else 'not alive'}"
            )

    emit(view, as_json, human)


@devnet_app.command("stop")
@handled
def devnet_stop(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """Stop every process of the devnet cleanly (the chain and databases stay in the home)."""
    if home is None:
        raise BadInput("say which devnet: --home DIR or POCOPOOL_HOME")
    result = manager.stop(home)
    emit(
        result, as_json, lambda r: render.console.print(f"stopped: {', '.join(r['stopped']) or 'nothing was running'}")
    )
