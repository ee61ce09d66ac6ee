"""Confidential tasks end to end on a real devnet: the SMS, a tee-sim worker (a SIMULATED enclave,
real cryptography) and a standard worker, all real processes.

- an encrypted dataset decrypted only inside pre-compute, a requester and a developer secret read by
  the app, a result encrypted for the beneficiary, the optimized flow RUNNING → FINALIZED → COMPLETED;
- the same with a callback (the result is the callback data on chain, nothing uploaded);
- RUNNING_FAILED when the one TEE-capable worker fails before COMPUTED;
- TEE failure causes provoked for real, each with its cause and message;
- the worker process never holds a secret: its memory (/proc), logs and work folder, and the
  scheduler's database, are searched for the secrets and the dataset key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from eth_account import Account

from devnet_harness import Devnet, assert_provoked, run_cli, started_devnet
from pocopool.backup import backup
from pocopool.chain import connect
from pocopool.chain.base import DealRequest
from pocopool.client.sms import SmsClient
from pocopool.protocol.crypto import ZERO_ADDRESS, sha256_hex
from pocopool.protocol.encryption import EncryptionError, aes_decrypt, decode_dataset_key, new_dataset_key
from pocopool.protocol.tags import int_to_tag
from pocopool.protocol.tee import DROPBOX_TOKEN, IPFS_TOKEN, SIM_FRAMEWORK_TAG, EnclaveConfig, SecretKind
from silent_host import silent_host
from test_consensus_faults_e2e import replicate_of, task_statuses, watch

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
PROBE = HERE / "apps" / "tee-probe"
HELLO = HERE.parents[1] / "examples" / "apps" / "hello"
REQUESTER_SECRET = "requester-secret-5f2a-only-for-the-app-enclave"
DEVELOPER_SECRET = "developer-secret-c81e-only-for-the-app-enclave"
CORPUS = "confidential words, decrypted in pre-compute only\n"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    with started_devnet(tmp_path_factory.mktemp("tee-devnet"), "--workers", "2", "--tee-workers", "1") as devnet:
        yield devnet


@pytest.fixture(scope="module")
def probe(net: Devnet) -> str:
    return net.cli("app", "deploy", str(PROBE), "--tee", "--developer-secret", DEVELOPER_SECRET, "--json").json()["app"]


def tee_worker(net: Devnet) -> dict:
    [worker] = [w for w in net.cli("devnet", "status", "--json").json()["workers"] if w["tee"]]
    return worker


def encrypted_dataset(net: Devnet, folder: Path, *, wrong_key: bool = False) -> tuple[str, str, Path]:
    """(dataset address, the key pushed, the encrypted file) of CORPUS; with `wrong_key` the key pushed
    to the SMS is not the one the file was encrypted with."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.txt"
    corpus.write_text(CORPUS)
    made = run_cli("dataset", "encrypt", str(corpus), "--json").json()
    encrypted, key_file = folder / made["encryptedFile"], folder / made["keyFile"]
    if wrong_key:
        key_file = folder / "wrong.key"
        key_file.write_text(wrong_key_for(encrypted.read_bytes()) + "\n")
    deployed = net.cli("dataset", "deploy", str(encrypted), "--key-file", str(key_file), "--json").json()
    assert deployed["keyPushed"]
    return deployed["dataset"], key_file.read_text().strip(), encrypted


def cause_of(debug: dict, wallet: str) -> tuple[str | None, str]:
    failed = [s for s in replicate_of(debug, wallet)["statusHistory"] if s.get("cause")]
    return (failed[0]["cause"], failed[0].get("message") or "") if failed else (None, "")


def secrets_in_memory(pid: int, needles: list[bytes]) -> tuple[list[bytes], int]:
    """The needles found in the readable memory of process `pid` (read as root from /proc), and how
    many bytes were read: a scan that read nothing proves nothing."""
    found: set[bytes] = set()
    read = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as memory:
        for line in maps:
            span, perms = line.split()[:2]
            if "r" not in perms:
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                memory.seek(start)
                chunk = memory.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            read += len(chunk)
            found.update(n for n in needles if n in chunk)
    return sorted(found), read


def test_a_confidential_task_runs_in_the_simulated_enclave_beside_a_standard_one(
    net: Devnet, probe: str, tmp_path: Path
) -> None:
    keys = net.cli("keys", "result-key", "--out", str(tmp_path / "keys"), "--json").json()
    dataset, dataset_key, _ = encrypted_dataset(net, tmp_path / "data")
    tee_task = net.cli(
        "run", probe, "--tee", "--dataset", dataset, "--secret", f"1={REQUESTER_SECRET}", "--encrypt-result", "--json"
    ).json()["taskIds"][0]
    standard_task = net.cli("run", net.deploy_app(HELLO), "--args", "side by side", "--json").json()["taskIds"][0]

    debug = watch(net, tee_task)
    wallet = tee_worker(net)["wallet"]
    assert debug["status"] == "COMPLETED", json.dumps(debug, indent=1)
    assert "FINALIZED" in task_statuses(debug) and "CONSENSUS_REACHED" not in task_statuses(debug)
    replicate = [s["status"] for s in replicate_of(debug, wallet)["statusHistory"]]
    assert replicate[replicate.index("COMPUTED") :] == [
        "COMPUTED",
        "CONTRIBUTE_AND_FINALIZE_ONGOING",
        "CONTRIBUTE_AND_FINALIZE_DONE",
        "COMPLETING",
        "COMPLETED",
    ]
    assert watch(net, standard_task)["status"] == "COMPLETED"

    # The uploaded result opens with the beneficiary's private key only.
    raw = net.cli("task", "download", tee_task, str(tmp_path / "raw"), "--json").json()
    archive = next((tmp_path / "raw").glob("*.zip"))
    assert sorted(zipfile.ZipFile(archive).namelist()) == ["aes-key.rsa", "iexec_out.zip.aes"], raw
    net.cli("task", "download", tee_task, str(tmp_path / "plain"), "--decrypt", "--key-file", keys["privateKeyFile"])
    proof = json.loads((tmp_path / "plain" / "proof.json").read_text())
    assert proof == {
        "dataset": CORPUS,
        "datasetKeySeen": False,
        "developerSecret": hashlib.sha256(DEVELOPER_SECRET.encode()).hexdigest(),
        "requesterSecret1": hashlib.sha256(REQUESTER_SECRET.encode()).hexdigest(),
    }

    # task debug --logs: each enclave stage with its exit code and its logs, for the requester.
    logged = net.cli("task", "debug", tee_task, "--logs", "--json").json()
    stages = replicate_of(logged, wallet)["logs"]["teeStages"]
    assert [(s["stage"], s["exitCode"]) for s in stages] == [("pre-compute", 0), ("app", 0), ("post-compute", 0)]
    assert all("tee-sim (simulated enclave" in s["stderr"] for s in stages), stages
    assert "result uploaded" in stages[2]["stderr"] and "dataset decrypted" in stages[0]["stderr"]
    text = net.cli("task", "debug", tee_task, "--logs").stdout
    assert "TEE pre-compute (tee-sim (simulated enclave" in text and "TEE post-compute" in text, text

    # The worker process never held a secret value: memory, logs, work folder; nor did the scheduler.
    needles = [
        REQUESTER_SECRET.encode(),
        DEVELOPER_SECRET.encode(),
        dataset_key.encode(),
        decode_dataset_key(dataset_key),
    ]
    worker = tee_worker(net)
    assert worker["running"]
    # The scan must see the worker's heap: its own wallet address, which it holds, is the control.
    control = worker["wallet"].encode()
    found, read = secrets_in_memory(worker["pid"], [*needles, control])
    assert read > 10 * 2**20 and found == [control], (read, found)
    state = json.loads((net.home / "devnet.json").read_text())
    [entry] = [w for w in state["workers"] if w["wallet"] == worker["wallet"]]
    # The scheduler's database, whatever it is (SQLite or PostgreSQL), through its own backup: every row.
    dump = tmp_path / "scheduler-database.backup"
    backup(state["database"], dump)
    places = [Path(entry["workdir"]), *(net.home / "logs").glob("*.log"), *net.home.glob("scheduler.db*"), dump]
    files = [p for place in places for p in ([place] if place.is_file() else place.rglob("*")) if p.is_file()]
    assert len(files) > 3
    leaks = [(str(path), needle) for path in files for needle in needles if needle in path.read_bytes()]
    assert leaks == []


def test_the_optimized_flow_delivers_a_callback_result_on_chain(net: Devnet, probe: str) -> None:
    callback = "0x" + "c0" * 20
    task = net.cli("run", probe, "--tee", "--callback", callback, "--args", "callback", "--json").json()["taskIds"][0]
    debug = watch(net, task)
    assert debug["status"] == "COMPLETED", json.dumps(debug, indent=1)
    chain = connect(json.loads((net.home / "devnet.json").read_text())["chain"])
    try:
        on_chain = chain.view_task(task)
    finally:
        chain.close()
    assert len(on_chain.results_callback) == 32 and on_chain.results == b""


def test_running_failed_when_the_only_tee_worker_fails_before_computed(net: Devnet, probe: str) -> None:
    task = net.cli("run", probe, "--tee", "--args", "fail", "--json").json()["taskIds"][0]
    debug = watch(net, task)
    assert debug["status"] == "FAILED" and "RUNNING_FAILED" in task_statuses(debug), json.dumps(debug, indent=1)
    cause, message = cause_of(debug, tee_worker(net)["wallet"])
    assert (cause, message) == ("APP_COMPUTE_FAILED", "app exited with code 3")


def wrong_key_for(encrypted: bytes) -> str:
    """A key that is not the dataset's and whose decryption fails on the padding (a wrong key still
    gives valid padding once in ~256: the test picks one that does not, so the outcome is fixed)."""
    while True:
        key = new_dataset_key()
        try:
            aes_decrypt(encrypted, decode_dataset_key(key))
        except EncryptionError:
            return key


Expected = tuple[str, str, str, str, str, str]  # task, then status, cause, error, component and fix


def each_failed_as_expected(net: Devnet, expected: list[Expected]) -> None:
    """Tasks bought first and checked afterwards, so that they run side by side on the TEE worker's
    slots: each ended FAILED and says what `assert_provoked` expects of it."""
    for task, status, cause, error, component, fix in expected:
        debug = watch(net, task)
        assert debug["status"] == "FAILED", json.dumps(debug, indent=1)
        assert_provoked(net, task, status=status, cause=cause, error=error, component=component, fix=fix)


def test_tee_failures_are_provoked_and_explained(net: Devnet, probe: str, tmp_path: Path) -> None:
    expected: list[Expected] = []

    def provoked(run: tuple[str, ...], status: str, cause: str, error: str, component: str, fix: str) -> None:
        expected.append((net.cli("run", *run, "--json").json()["taskIds"][0], status, cause, error, component, fix))

    # A dataset key that does not open the dataset.
    dataset, _, _ = encrypted_dataset(net, tmp_path / "wrong-key", wrong_key=True)
    provoked(
        (probe, "--tee", "--dataset", dataset),
        "COMPUTE_FAILED",
        "PRE_COMPUTE_DATASET_DECRYPTION_FAILED",
        "the dataset cannot be decrypted",
        "storage",
        "Check the dataset",
    )
    # An encrypted dataset changed after it was deployed.
    dataset, _, encrypted = encrypted_dataset(net, tmp_path / "tampered")
    digest = hashlib.sha256(encrypted.read_bytes()).hexdigest()
    served = served_file(net, digest)
    served.write_bytes(b"\0" * 16 + served.read_bytes()[16:])
    provoked(
        (probe, "--tee", "--dataset", dataset),
        "COMPUTE_FAILED",
        "PRE_COMPUTE_INVALID_DATASET_CHECKSUM",
        f", the chain says 0x{digest}",
        "storage",
        "Check the dataset",
    )
    # An app whose on-chain fingerprint is not its bundle's.
    state = json.loads((net.home / "devnet.json").read_text())
    chain = connect(state["chain"])
    try:
        real = chain.view_app(probe)
        forged = replace(EnclaveConfig.parse(real.mrenclave), fingerprint="ab" * 32).to_json()
        requester = Account.from_key(Path(state["keys"]["requester"]).read_text().strip())
        impostor = chain.create_app(
            requester, "tee-probe-forged", real.multiaddr, real.checksum, mrenclave=forged
        ).return_value
    finally:
        chain.close()
    provoked(
        (impostor, "--tee"),
        "COMPUTE_FAILED",
        "PRE_COMPUTE_INVALID_ENCLAVE_CONFIGURATION",
        f"its on-chain enclave fingerprint is {'ab' * 32}",
        "worker",
        "TEE setup",
    )
    # An app that leaves no computed.json: post-compute has nothing to sign.
    provoked(
        (probe, "--tee", "--args", "no-computed"),
        "COMPUTE_FAILED",
        "POST_COMPUTE_COMPUTED_FILE_NOT_FOUND",
        "the app wrote no /iexec_out/computed.json",
        "app",
        "computed.json",
    )
    # An app asking for more enclave heap than the worker allows (1024 MiB by default).
    big = net.cli("app", "deploy", str(PROBE), "--tee", "--heap-mb", "4096", "--json").json()["app"]
    provoked(
        (big, "--tee"),
        "START_FAILED",
        "PRE_COMPUTE_INVALID_ENCLAVE_HEAP_CONFIGURATION",
        "the app asks for an enclave heap of 4096 MiB; this worker allows 1024 MiB (--tee-max-heap-mb)",
        "worker",
        "TEE setup",
    )
    each_failed_as_expected(net, expected)


def served_file(net: Devnet, digest: str) -> Path:
    """The devnet's file server's copy of the file whose sha256 is `digest`."""
    [served] = [p for p in (net.home / "files").rglob("*") if p.is_file() and digest in str(p)]
    return served


def test_sms_refusals_reach_the_requester_as_their_tee_session_causes(net: Devnet, probe: str) -> None:
    """Deals the CLI would refuse to buy (it checks the beneficiary key first), created on chain
    directly: the SMS refuses the worker's session and the worker reports the SMS's cause."""
    state = json.loads((net.home / "devnet.json").read_text())
    requester_key = Path(state["keys"]["requester"]).read_text().strip()
    requester = Account.from_key(requester_key)
    chain = connect(state["chain"])

    def failed_task(beneficiary: str | None = None, **params: object) -> str:
        request = DealRequest(
            app=probe,
            workerpool=state["workerpool"],
            category=0,
            tag=int_to_tag(SIM_FRAMEWORK_TAG),
            params=json.dumps(params),
            beneficiary=beneficiary,
        )
        deal = chain.view_deal(chain.create_deal(requester, request).return_value)
        assert deal is not None
        [task] = deal.task_ids()
        return str(task)  # checked below, once every deal is bought: they run side by side

    try:
        nobody = Account.create().address  # a beneficiary that never pushed a result key
        no_key = failed_task(iexec_result_encryption=True, beneficiary=nobody)
        no_secret = failed_task(iexec_secrets={"1": "never-pushed"})
        no_token = failed_task(iexec_result_storage_provider="dropbox")  # the requester pushed no dropbox token
        # A storage token the session can give (the requester's), and a proxy where nothing listens.
        SmsClient(net.status["sms"], requester_key).push(SecretKind.WEB2, requester.address, IPFS_TOKEN, "t0ken")
        no_upload = failed_task(iexec_result_storage_proxy="http://127.0.0.1:9")
    finally:
        chain.close()
    for task in (no_key, no_secret, no_token, no_upload):
        debug = watch(net, task)
        assert debug["status"] == "FAILED" and "RUNNING_FAILED" in task_statuses(debug), json.dumps(debug, indent=1)
    assert_provoked(
        net,
        no_key,
        status="START_FAILED",
        cause="TEE_SESSION_GENERATION_POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY",
        error=f"the SMS refused the session (404 POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY): "
        f"result encryption is asked but beneficiary {nobody} pushed no",
        component="requester",
        fix="The beneficiary must push its result encryption public key",
    )
    assert_provoked(
        net,
        no_secret,
        status="START_FAILED",
        cause="TEE_SESSION_GENERATION_SECURE_SESSION_GENERATION_FAILED",
        error=f"requester {requester.address} has no secret named 'never-pushed'",
        component="requester",
        fix="Push the secret to the workerpool's SMS",
    )
    assert_provoked(
        net,
        no_token,
        status="START_FAILED",
        cause="TEE_SESSION_GENERATION_POST_COMPUTE_GET_STORAGE_TOKENS_FAILED",
        error=f"no iexec-result-dropbox-token was pushed by {requester.address}",
        component="requester",
        fix="Push a token of the storage provider the deal names",
    )
    debug = assert_provoked(
        net,
        no_upload,
        status="COMPUTE_FAILED",
        cause="POST_COMPUTE_IPFS_UPLOAD_FAILED",
        error="PUT http://127.0.0.1:9/results/0x",
        component="worker",
        fix="the result storage",
    )
    assert "ConnectError" in cause_of(debug, tee_worker(net)["wallet"])[1]


def tiny_rsa_key_b64() -> str:
    """Base64 of a well-formed PEM RSA public key too small (216 bits) to encrypt a 32-byte AES key."""
    key = rsa.RSAPublicNumbers(65537, (2**127 - 1) * (2**89 - 1)).public_key()
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(pem).decode()


def test_each_failure_tee_sim_meets_is_reported_under_its_own_cause(net: Devnet, probe: str, tmp_path: Path) -> None:
    """Last in this module: it pushes the requester's Dropbox token, which the SMS
    refusals above must not find."""
    state = json.loads((net.home / "devnet.json").read_text())
    requester_key = Path(state["keys"]["requester"]).read_text().strip()
    requester = Account.from_key(requester_key)
    sms = SmsClient(net.status["sms"], requester_key)
    chain = connect(state["chain"])

    def deal(app: str = probe, dataset: str = ZERO_ADDRESS, beneficiary: str | None = None, **params: object) -> str:
        tag = int_to_tag(SIM_FRAMEWORK_TAG)
        request = DealRequest(app, state["workerpool"], 0, dataset, tag=tag, params=json.dumps(params))
        created = chain.view_deal(chain.create_deal(requester, replace(request, beneficiary=beneficiary)).return_value)
        assert created is not None
        [task] = created.task_ids()
        return task

    def run(*args: str) -> str:
        return str(net.cli("run", probe, "--tee", *args, "--json").json()["taskIds"][0])

    expected: list[Expected] = []

    def provoked(task: str, status: str, cause: str, error: str, component: str, fix: str) -> None:
        expected.append((task, status, cause, error, component, fix))

    def beneficiary_with_key(key_b64: str) -> str:
        account = Account.create()
        SmsClient(net.status["sms"], account.key.hex()).push_result_key(key_b64)
        return str(account.address)

    data = "Check the dataset and input files"
    try:
        with silent_host() as host:
            # Pre-compute: what the deal or its data hosts give it.
            dataset, _, encrypted = encrypted_dataset(net, tmp_path / "gone")
            served_file(net, hashlib.sha256(encrypted.read_bytes()).hexdigest()).unlink()
            provoked(
                run("--dataset", dataset),
                "COMPUTE_FAILED",
                "PRE_COMPUTE_DATASET_DOWNLOAD_FAILED",
                "404 GET http",
                "storage",
                data,
            )
            nowhere = chain.create_dataset(requester, "no-url", "", sha256_hex(b"x")).return_value
            sms.push_dataset_key(nowhere, new_dataset_key())
            provoked(
                deal(dataset=nowhere),
                "COMPUTE_FAILED",
                "PRE_COMPUTE_DATASET_URL_MISSING",
                "the session has no (or an empty) IEXEC_DATASET_URL",
                "storage",
                data,
            )
            provoked(
                deal(iexec_input_files=[""]),
                "COMPUTE_FAILED",
                "PRE_COMPUTE_AT_LEAST_ONE_INPUT_FILE_URL_MISSING",
                "the session has no (or an empty) IEXEC_INPUT_FILE_URL_1",
                "storage",
                data,
            )
            provoked(
                run("--input-file", f"{host}/missing"),
                "COMPUTE_FAILED",
                "PRE_COMPUTE_INPUT_FILE_DOWNLOAD_FAILED",
                f"404 GET {host}/missing",
                "storage",
                data,
            )
            # Post-compute: the result the app leaves, the beneficiary's key, the result storage.
            provoked(
                run("--args", "unzippable"),
                "COMPUTE_FAILED",
                "POST_COMPUTE_OUT_FOLDER_ZIP_FAILED",
                "cannot zip iexec_out",
                "worker",
                "Read the message",
            )
            provoked(
                deal(beneficiary=beneficiary_with_key("not-a-key"), iexec_result_encryption=True),
                "COMPUTE_FAILED",
                "POST_COMPUTE_MALFORMED_ENCRYPTION_PUBLIC_KEY",
                "the result encryption public key is not base64",
                "requester",
                "The beneficiary must push its result encryption public key again, well formed",
            )
            provoked(
                deal(beneficiary=beneficiary_with_key(tiny_rsa_key_b64()), iexec_result_encryption=True),
                "COMPUTE_FAILED",
                "POST_COMPUTE_ENCRYPTION_FAILED",
                "the result cannot be encrypted",
                "requester",
                "The beneficiary must push a 2048-bit or larger RSA result encryption public key",
            )
            sms.push(SecretKind.WEB2, requester.address, DROPBOX_TOKEN, "dropbox-t0ken")
            provoked(
                deal(iexec_result_storage_provider="dropbox"),
                "COMPUTE_FAILED",
                "POST_COMPUTE_DROPBOX_UPLOAD_FAILED",
                "storage provider 'dropbox' is not reachable from tee-sim",
                "requester",
                "Buy the task again with the IPFS result storage (the default)",
            )
            each_failed_as_expected(net, expected)
    finally:
        chain.close()
