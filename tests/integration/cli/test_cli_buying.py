"""`pocopool run` and `task show --watch` against a real ledger (a devnet home whose chain, keys,
categories and workerpool are made by `devnet/homes.prepare_chain`) and a scheduler that knows no
task; no worker runs: these commands refuse or decide before any task would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pocopool.chain import connect
from pocopool.cli.main import app
from pocopool.devnet.homes import prepare_chain
from pocopool.devnet.state import load_state, save_state

HELLO = Path(__file__).resolve().parents[3] / "examples" / "apps" / "hello"


class _KnowsNoTask(BaseHTTPRequestHandler):
    """The scheduler's answer for a task it has not seen (and no event stream)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"error": "unknown task", "code": "NOT_FOUND"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    state = prepare_chain(home, 0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KnowsNoTask)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.scheduler = f"http://127.0.0.1:{server.server_address[1]}"
    state.files = "http://127.0.0.1:9/files"  # deploys write into HOME/files; nothing fetches them here
    save_state(home, state)
    try:
        yield home
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def pocopool(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--home", str(home)], prog_name="pocopool")
    return result.exit_code, result.stdout, result.stderr


def deploy_hello(home: Path) -> str:
    code, stdout, stderr = pocopool(home, "app", "deploy", str(HELLO), "--json")
    assert code == 0, stderr
    return str(json.loads(stdout)["app"])


def on_chain(home: Path) -> tuple[int, int]:
    """How many deals the chain holds, and how many categories."""
    chain = connect(load_state(home).chain)
    try:
        return len(chain.events(0, None, ("SchedulerNotice",))), chain.category_count()
    finally:
        chain.close()


def test_a_category_the_chain_does_not_hold_is_refused_and_nothing_is_bought(home: Path) -> None:
    app_address = deploy_hello(home)
    deals, categories = on_chain(home)
    code, stdout, stderr = pocopool(home, "run", app_address, "--category", str(categories))
    assert code == 2 and stdout == ""
    assert stderr.splitlines() == [
        f"error: --category {categories} does not exist on chain (categories 0..{categories - 1})"
    ]
    assert on_chain(home) == (deals, categories) == (0, categories)


def test_an_app_the_chain_does_not_hold_is_refused_as_bad_input(home: Path) -> None:
    code, _, stderr = pocopool(home, "run", "0x" + "00" * 19 + "01")
    assert code == 2 and stderr.strip().splitlines() == [
        "error: no app at 0x0000000000000000000000000000000000000001 on chain: deploy it first with "
        "`pocopool app deploy`"
    ]
    assert on_chain(home)[0] == 0


def test_trust_zero_buys_a_trust_one_deal_and_says_so(home: Path) -> None:
    app_address = deploy_hello(home)
    code, stdout, stderr = pocopool(home, "run", app_address, "--trust", "0", "--json")
    assert code == 0, stderr
    assert stderr.strip().splitlines() == [
        "note: --trust 0 is trust 1 on chain (PoCo keeps max(trust, 1)): one worker's result is accepted"
    ]
    deal_id = json.loads(stdout)["dealId"]
    code, stdout, _ = pocopool(home, "deal", "show", deal_id, "--json")
    assert code == 0 and json.loads(stdout)["trust"] == 1


def test_watching_a_task_no_deal_holds_fails_at_once(home: Path) -> None:
    deploy_hello(home)
    unknown = "0x" + "ab" * 32
    code, _, stderr = pocopool(home, "task", "show", unknown, "--watch", "--timeout", "120", "--json")
    assert code == 1
    assert stderr.strip().splitlines() == [
        f"error: task {unknown} is unknown: the scheduler has not seen it and no deal on chain holds it"
    ]


def test_watching_a_task_just_bought_waits_for_the_scheduler(home: Path) -> None:
    app_address = deploy_hello(home)
    code, stdout, stderr = pocopool(home, "run", app_address, "--json")
    assert code == 0, stderr
    task = json.loads(stdout)["taskIds"][0]
    code, _, stderr = pocopool(home, "task", "show", task, "--watch", "--timeout", "1", "--json")
    assert code == 1
    assert stderr.strip().splitlines() == [f"error: task {task} is still UNKNOWN after 1 s"]
