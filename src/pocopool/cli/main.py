"""`pocopool`: run a devnet, deploy apps and datasets, run deals, follow and debug tasks.

Every command takes --json (stable keys, for scripts and tests). A failing command prints one
line on stderr and exits non-zero; it never shows a traceback (cli/common.py). The devnet, task and
deal, db and keys commands live in their own modules; this one gathers them under the root command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ..client import run_request
from ..client.errors import BadInput
from ..client.files import existing_file
from ..client.run_request import MAX_TASKS, RunRequest
from ..devnet import manager
from . import render
from .backup import db_app
from .common import HomeOption, JsonOption, KeyOption, app, emit, handled, note
from .context import open_context
from .devnet import devnet_app
from .tasks import deal_app, task_app
from .tee import keys_app

app_app = typer.Typer(help="Deploy app bundles.", no_args_is_help=True)
dataset_app = typer.Typer(help="Deploy datasets.", no_args_is_help=True)
category_app = typer.Typer(help="Manage work categories (ledger owner only).", no_args_is_help=True)
app.add_typer(devnet_app, name="devnet")
app.add_typer(app_app, name="app")
app.add_typer(dataset_app, name="dataset")
app.add_typer(category_app, name="category")
app.add_typer(task_app, name="task")
app.add_typer(deal_app, name="deal")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")


# ----- deploy ------------------------------------------------------------------------------------
@app_app.command("deploy")
@handled
def app_deploy(
    path: Path = typer.Argument(..., help="App bundle: a directory with app.json, or a .tar.gz of one."),
    price: int = typer.Option(0, "--price", min=0, help="Price per task in nRLC."),
    tee: bool = typer.Option(False, "--tee", help="A confidential app: its enclave configuration goes on chain."),
    heap_mb: int = typer.Option(256, "--heap-mb", min=1, help="With --tee: the enclave heap the app needs."),
    developer_secret: str | None = typer.Option(
        None,
        "--developer-secret",
        help="With --tee: a secret only the app's enclave sees (IEXEC_APP_DEVELOPER_SECRET).",
    ),
    sms: str | None = typer.Option(None, "--sms", envvar="POCOPOOL_SMS", help="SMS base URL (default: the devnet's)."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
    key: Path | None = KeyOption,
) -> None:
    """Publish an app bundle on the devnet's file server and register it on chain."""
    from ..client.sms import SmsClient
    from ..protocol import crypto
    from .context import sms_url

    if developer_secret is not None and not tee:
        raise BadInput("--developer-secret is for confidential apps: add --tee")
    ctx = open_context(home, key)
    try:
        client = SmsClient(sms_url(ctx, sms), crypto.key_hex(ctx.requester.account)) if developer_secret else None
        deployed = ctx.requester.deploy_app(path, price=price, tee_heap_bytes=heap_mb * 2**20 if tee else None)
        if client is not None and developer_secret is not None:
            client.push_app_secret(deployed.address, developer_secret)
    finally:
        ctx.close()
    data = {
        "app": deployed.address,
        "name": deployed.name,
        "url": deployed.url,
        "checksum": deployed.checksum,
        "tee": tee,
        "developerSecretPushed": developer_secret is not None,
    }
    emit(
        data,
        as_json,
        lambda d: render.console.print(
            f"app {d['name']} deployed at {d['app']}\n  bundle {d['url']}\n  sha256 {d['checksum']}\n"
            f"next: pocopool run {d['app']}"
        ),
    )


@dataset_app.command("deploy")
@handled
def dataset_deploy(
    path: Path = typer.Argument(..., help="The dataset file (FILE.enc for a confidential dataset)."),
    name: str | None = typer.Option(None, "--name", help="Dataset name (default: the file name)."),
    price: int = typer.Option(0, "--price", min=0, help="Price per task in nRLC."),
    key_file: Path | None = typer.Option(
        None, "--key-file", dir_okay=False, help="FILE.key of `dataset encrypt`: pushed to the SMS for the enclave."
    ),
    sms: str | None = typer.Option(None, "--sms", envvar="POCOPOOL_SMS", help="SMS base URL (default: the devnet's)."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
    key: Path | None = KeyOption,
) -> None:
    """Publish a dataset file on the devnet's file server and register its URL and sha256 on chain.
    With --key-file the dataset is confidential: its key goes to the SMS, signed by you, its owner."""
    from ..client.confidential import read_dataset_key
    from ..client.sms import SmsClient
    from ..protocol import crypto
    from .context import sms_url

    existing_file(path, "a dataset")
    dataset_key = read_dataset_key(key_file) if key_file is not None else None
    ctx = open_context(home, key)
    try:
        client = SmsClient(sms_url(ctx, sms), crypto.key_hex(ctx.requester.account)) if dataset_key else None
        deployed = ctx.requester.deploy_dataset(path, name=name, price=price)
        if client is not None and dataset_key is not None:
            client.push_dataset_key(deployed.address, dataset_key)
    finally:
        ctx.close()
    data = {
        "dataset": deployed.address,
        "name": deployed.name,
        "url": deployed.url,
        "checksum": deployed.checksum,
        "keyPushed": dataset_key is not None,
    }
    emit(
        data,
        as_json,
        lambda d: render.console.print(f"dataset {d['name']} deployed at {d['dataset']}\n  url {d['url']}"),
    )


@dataset_app.command("encrypt")
@handled
def dataset_encrypt(
    path: Path = typer.Argument(..., help="The plain dataset file."),
    out: Path | None = typer.Option(
        None, "--out", file_okay=False, help="Folder for FILE.enc and FILE.key (default: beside FILE)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Encrypt a dataset for confidential (TEE) tasks: FILE.enc (AES-256-CBC, IV first) and FILE.key
    (its base64 key, readable by you only). Deploy FILE.enc; only the enclave's pre-compute gets the key."""
    from ..client.confidential import encrypt_dataset_file

    data = encrypt_dataset_file(path, out).to_json()
    emit(
        data,
        as_json,
        lambda d: render.console.print(
            f"encrypted {path} → {d['encryptedFile']}\n  key {d['keyFile']} (keep it: it is the only copy)\n"
            f"  sha256 {d['checksum']}"
        ),
    )


@category_app.command("create")
@handled
def category_create(
    name: str = typer.Argument(..., help="Category name."),
    max_time: int = typer.Option(..., "--max-time", min=1, help="Maximum run time of one task, in seconds."),
    description: str = typer.Option("", "--description"),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a category (the ledger owner's right); its max time sets every deadline."""
    ctx = open_context(home, None)
    try:
        from ..protocol.keys import Wallet

        owner = Wallet.from_key(manager.read_key(Path(ctx.state.keys.owner)))
        receipt = ctx.requester._transact(ctx.chain.create_category, owner, name, description, max_time)
    finally:
        ctx.close()
    data = {"category": receipt.return_value, "name": name, "maxTime": max_time}
    emit(data, as_json, lambda d: render.console.print(f"category {d['name']} created with id {d['category']}"))


# ----- run ---------------------------------------------------------------------------------------
def _push_run_secrets(ctx: Any, sms: str | None, values: dict[str, str], encrypt_result: bool) -> dict[str, str]:
    """Before buying: push each --secret under a fresh name, and check the beneficiary's key exists."""
    import secrets as random

    from ..client.sms import SmsClient
    from ..protocol import crypto
    from .context import sms_url

    if not values and not encrypt_result:
        return {}
    client = SmsClient(sms_url(ctx, sms), crypto.key_hex(ctx.requester.account))
    if encrypt_result and not client.has_result_key(client.address):
        raise BadInput(
            f"--encrypt-result: {client.address} has no result key in the SMS: "
            "create one with `pocopool keys result-key --out DIR`"
        )
    run_id = random.token_hex(4)
    names = {index: f"run-{run_id}-{index}" for index in values}
    for index, value in values.items():
        client.push_requester_secret(names[index], value)
    return names


@app.command("run")
@handled
def run(
    app_address: str = typer.Argument(..., metavar="APP", help="Address of a deployed app."),
    dataset: str | None = typer.Option(None, "--dataset", help="Address of a deployed dataset."),
    trust: int = typer.Option(
        1,
        "--trust",
        help="How sure the result must be: 1 = one worker, 3 = two agreeing workers, … (0 is 1 on chain).",
    ),
    tasks: int = typer.Option(1, "--tasks", help=f"Number of tasks in the deal (1 to {MAX_TASKS})."),
    category: int = typer.Option(0, "--category", help="Category id (0 = XS, 5 minutes)."),
    args: str = typer.Option("", "--args", help="Arguments given to the app, split as a shell would."),
    input_file: list[str] = typer.Option([], "--input-file", help="http(s) URL of an input file (repeatable)."),
    watch: bool = typer.Option(False, "--watch", help="Wait until every task is final."),
    tee: bool = typer.Option(False, "--tee", help="A confidential task, run in an enclave (tee-sim: simulated)."),
    secret: list[str] = typer.Option(
        [],
        "--secret",
        metavar="N=VALUE",
        help="With --tee: VALUE goes to the SMS; the app sees IEXEC_REQUESTER_SECRET_N.",
    ),
    encrypt_result: bool = typer.Option(
        False,
        "--encrypt-result",
        help="With --tee: the result is encrypted for the beneficiary's key (`pocopool keys result-key` first).",
    ),
    sms: str | None = typer.Option(None, "--sms", envvar="POCOPOOL_SMS", help="SMS base URL (default: the devnet's)."),
    callback: str | None = typer.Option(
        None,
        "--callback",
        metavar="ADDRESS",
        help="A callback deal: the result is the app's callback-data, written on "
        "chain for this contract; nothing is uploaded.",
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
    key: Path | None = KeyOption,
) -> None:
    """Buy tasks of an app on the devnet's workerpool: prints the deal id and every task id.
    What cannot run is refused before anything is bought (client/run_request.py)."""
    from ..client.sms import parse_secret_options
    from ..protocol.crypto import ZERO_ADDRESS
    from ..protocol.tags import int_to_tag
    from ..protocol.tee import SIM_FRAMEWORK_TAG

    values = parse_secret_options(secret)
    request, notes = run_request.check(
        RunRequest(
            app=app_address,
            dataset=dataset or ZERO_ADDRESS,
            trust=trust,
            tasks=tasks,
            category=category,
            args=args,
            input_files=tuple(input_file),
            tag=int_to_tag(SIM_FRAMEWORK_TAG if tee else 0),
            secrets=tuple(values),
            encrypt_result=encrypt_result,
            callback=callback or ZERO_ADDRESS,
        )
    )
    for line in notes:
        note(line)
    ctx = open_context(home, key)
    try:
        ctx.requester.check_on_chain(request)
        names = _push_run_secrets(ctx, sms, values, encrypt_result) if tee else {}
        result = ctx.requester.run(request, ctx.state.workerpool, secret_names=names)
        data: dict[str, Any] = {"dealId": result.deal_id, "taskIds": result.task_ids}
        if not as_json:
            render.console.print(f"deal {result.deal_id}")
            for task_id in result.task_ids:
                render.console.print(f"  task {task_id}")
            home_hint = f" --home {ctx.home}"
            render.console.print(f"follow: pocopool task show {result.task_ids[0]} --watch{home_hint}")
            render.console.print(f"debug:  pocopool task debug {result.task_ids[0]}{home_hint}")
            if len(result.task_ids) > 1:
                render.console.print(f"deal:   pocopool deal show {result.deal_id} --watch{home_hint}")
            render.console.print(f"web:    {ctx.requester.scheduler_url}/ui/tasks/{result.task_ids[0]}")
        if watch:
            finals = [ctx.requester.wait_task(task_id) for task_id in result.task_ids]
            data["statuses"] = {v["taskId"]: v["status"] for v in finals}
            if not as_json:
                for v in finals:
                    render.console.print(f"  {v['taskId']} {v['status']}")
    finally:
        ctx.close()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    if watch and any(s != "COMPLETED" for s in data["statuses"].values()):
        raise typer.Exit(1)


@app.command("explain")
@handled
def explain(
    name: str = typer.Argument(..., help="A task status, a replicate status, a failure cause or a task's cause."),
    as_json: bool = JsonOption,
) -> None:
    """What a status or a cause means, whose fault it is, and what to do about it."""
    from difflib import get_close_matches

    from ..protocol import explanations

    try:
        found = explanations.lookup(name)
    except KeyError:
        close = get_close_matches(name.strip().upper(), explanations.known_names(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise BadInput(f"{name!r} is not a status or a cause{hint}") from None

    def human(data: dict[str, Any]) -> None:
        if "docSpelling" in data:
            render.console.print(f"{data['docSpelling']} is the docs' spelling of {data['name']}")
        for entry in data["entries"]:
            render.console.print(f"[bold]{entry['name']}[/bold] ({entry['kind']}): {entry['description']}")
            if "explanation" in entry:
                render.console.print(f"  what happened  {entry['explanation']}")
                render.console.print(f"  whose          {entry['origin']} ({entry['component']})")
                render.console.print(f"  what to do     {entry['fix']}")

    emit(found, as_json, human)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
