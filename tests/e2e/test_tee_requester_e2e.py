"""The requester's side of a confidential task on a real devnet (its SMS included) with no TEE-capable
worker: the secrets go to the SMS only, encrypted at rest; the scheduler gets the enclave challenge
from the SMS and initializes the task; the task says it waits for a TEE-capable worker. The run
itself is test_tee_e2e.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from devnet_harness import Devnet, run_cli
from pocopool.chain import connect
from pocopool.protocol.tee import EnclaveConfig

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
REQUESTER_SECRET = "requester-secret-4e1d-only-for-the-enclave"
DEVELOPER_SECRET = "developer-secret-9a7c-only-for-the-enclave"


def test_a_confidential_task_is_bought_with_its_secrets_in_the_sms_only(tmp_path: Path) -> None:
    home = tmp_path / "tee-devnet"
    status = run_cli("devnet", "start", "--workers", "1", "--json", home=home, timeout=150).json()
    net = Devnet(home, status)
    try:
        assert status["sms"].startswith("http://127.0.0.1:")
        assert httpx.get(f"{status['sms']}/tee/framework", timeout=5).json() == "GRAMINE"
        keys = net.cli("keys", "result-key", "--out", str(tmp_path / "keys"), "--json").json()
        assert keys["pushed"] and Path(keys["privateKeyFile"]).stat().st_mode & 0o077 == 0
        corpus = tmp_path / "corpus.txt"
        corpus.write_text("confidential words\n")
        encrypted = run_cli("dataset", "encrypt", str(corpus), "--json").json()  # offline: no devnet needed
        dataset_key = Path(encrypted["keyFile"]).read_text().strip()
        dataset = net.cli(
            "dataset", "deploy", encrypted["encryptedFile"], "--key-file", encrypted["keyFile"], "--json"
        ).json()
        assert dataset["keyPushed"] and dataset["checksum"] == encrypted["checksum"]
        app = net.cli(
            "app",
            "deploy",
            str(REPO / "examples" / "apps" / "hello"),
            "--tee",
            "--developer-secret",
            DEVELOPER_SECRET,
            "--json",
        ).json()
        run = net.cli(
            "run",
            app["app"],
            "--tee",
            "--dataset",
            dataset["dataset"],
            "--secret",
            f"1={REQUESTER_SECRET}",
            "--encrypt-result",
            "--json",
        ).json()
        task = run["taskIds"][0]

        state = json.loads((home / "devnet.json").read_text())
        chain = connect(state["chain"])
        try:
            config = EnclaveConfig.parse(chain.view_app(app["app"]).mrenclave)
            params = json.loads(chain.view_deal(run["dealId"]).params)
        finally:
            chain.close()
        assert config.provider == "GRAMINE" and len(config.fingerprint) == 64
        assert params["iexec_result_encryption"] is True and params["iexec_secrets"]["1"].startswith("run-")

        deadline = time.monotonic() + 60
        while True:
            view = net.cli("task", "show", task, "--json").json()
            if view["status"] == "INITIALIZED":
                break
            assert time.monotonic() < deadline, f"{json.dumps(view, indent=1)}\n{net.logs()}"
            time.sleep(1)
        text = net.cli("task", "show", task).stdout
        assert "waiting for a TEE-capable worker" in text, text
        scheduler_log = (home / "logs" / "scheduler.log").read_text()
        assert f"sms.call task={task} action=enclave_challenge" in scheduler_log

        needles = [REQUESTER_SECRET.encode(), DEVELOPER_SECRET.encode(), dataset_key.encode()]
        for path in [*home.rglob("scheduler.db*"), *(home / "logs").glob("*.log"), *(home / "sms").rglob("*")]:
            if path.is_file() and path.name != "master.key":
                data = path.read_bytes()
                assert [n for n in needles if n in data] == [], path
        assert (home / "sms" / "sms.db").exists()
        assert (
            net.cli("run", app["app"], "--secret", "1=x", check=False).stderr.strip()
            == "error: --secret and --encrypt-result are for confidential tasks: add --tee"
        )
    finally:
        run_cli("devnet", "stop", home=home, check=False)
