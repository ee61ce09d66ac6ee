"""The tee-sim post-compute enclave (simulated): compute the result digest, sign it with the task's
enclave key, zip the result, encrypt it for the beneficiary if asked, upload it to the result store
with the storage token, and report the computed file to the worker (spec/worker.md §8.5
"Post-compute enclave algorithm"). The digest and the zip are the standard post-compute's own code (`pocopool.result_folder`).

Run by the worker as `python -m pocopool.teesim.postcompute` in its own sandbox (docs/tee.md).
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import httpx

from ..protocol.digest import COMPUTED_FILE, MAX_RESULT_FILE_NAME, ComputedFile, DigestError
from ..protocol.enclave import ENV_IEXEC_OUT
from ..protocol.encryption import EncryptionError, MalformedPublicKey, encrypt_result, parse_public_key_b64
from ..protocol.http import ENCLAVE_SIGNATURE_HEADER, RESULT_DIGEST_HEADER, error_message
from ..protocol.tee import Stage, sign_enclave_result
from ..result_folder import compute_digest, too_long_names, zip_folder
from .enclave import StageFailure, main, say, worker_path
from .measurements import program_measurement

TIMEOUT = 120.0


def _computed(iexec_out: Path) -> tuple[ComputedFile, bytes]:
    source = iexec_out / COMPUTED_FILE
    if source.is_symlink() or not source.is_file():
        raise StageFailure(["COMPUTED_FILE_NOT_FOUND"], "the app wrote no /iexec_out/computed.json")
    raw = source.read_bytes()
    try:
        return ComputedFile.parse(raw), raw
    except DigestError as error:
        raise StageFailure(["RESULT_DIGEST_COMPUTATION_FAILED"], str(error)) from error


def _archive(iexec_out: Path, scratch: Path, env: dict[str, str]) -> bytes:
    long_names = too_long_names(iexec_out)
    if long_names:
        raise StageFailure(
            ["TOO_LONG_RESULT_FILE_NAME"],
            f"result file names longer than {MAX_RESULT_FILE_NAME} characters: {', '.join(long_names[:5])}",
        )
    archive = scratch / "iexec_out.zip"
    try:
        zip_folder(iexec_out, archive)
        data = archive.read_bytes()
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise StageFailure(["OUT_FOLDER_ZIP_FAILED"], f"cannot zip iexec_out: {error}") from error
    if env.get("RESULT_ENCRYPTION") != "true":
        return data
    key = env.get("RESULT_ENCRYPTION_PUBLIC_KEY", "")
    if not key:
        raise StageFailure(["ENCRYPTION_PUBLIC_KEY_MISSING"], "result encryption is asked and the session has no key")
    try:
        encrypted = encrypt_result(data, parse_public_key_b64(key))
    except MalformedPublicKey as error:
        raise StageFailure(["MALFORMED_ENCRYPTION_PUBLIC_KEY"], str(error)) from error
    except (EncryptionError, ValueError) as error:
        raise StageFailure(["ENCRYPTION_FAILED"], f"the result cannot be encrypted: {error}") from error
    say(Stage.POST, f"result encrypted for the beneficiary ({len(encrypted)} bytes)")
    return encrypted


def _upload(env: dict[str, str], digest: str, signature: str, body: bytes) -> str:
    provider = env.get("RESULT_STORAGE_PROVIDER", "ipfs")
    if provider != "ipfs":
        raise StageFailure(["DROPBOX_UPLOAD_FAILED"], f"storage provider {provider!r} is not reachable from tee-sim")
    token, proxy = env.get("RESULT_STORAGE_TOKEN", ""), env.get("RESULT_STORAGE_PROXY", "").rstrip("/")
    if not token:
        raise StageFailure(["STORAGE_TOKEN_MISSING"], "the session has no result storage token")
    url = f"{proxy}/results/{env['IEXEC_TASK_ID']}"
    try:
        answer = httpx.put(
            url,
            content=body,
            timeout=TIMEOUT,
            headers={
                "Authorization": f"Bearer {token}",
                RESULT_DIGEST_HEADER: digest,
                ENCLAVE_SIGNATURE_HEADER: signature,
                "Content-Type": "application/zip",
            },
        )
    except httpx.HTTPError as error:
        raise StageFailure(["IPFS_UPLOAD_FAILED"], f"PUT {url}: {type(error).__name__}: {error}") from error
    if answer.status_code != 201:
        raise StageFailure(["IPFS_UPLOAD_FAILED"], f"{answer.status_code} PUT {url}: {error_message(answer)}")
    link = answer.json().get("resultLink")
    if not isinstance(link, str) or not link:
        raise StageFailure(["IPFS_UPLOAD_FAILED"], f"PUT {url} gave no resultLink")
    return link


def work(env: dict[str, str]) -> dict:
    iexec_out = worker_path(ENV_IEXEC_OUT)
    callback = env.get("RESULT_STORAGE_CALLBACK") == "true"
    computed, _ = _computed(iexec_out)
    try:
        digest = compute_digest(iexec_out, computed, callback)
    except DigestError as error:
        raise StageFailure(["RESULT_DIGEST_COMPUTATION_FAILED"], str(error)) from error
    worker, task = env["SIGN_WORKER_ADDRESS"], env["IEXEC_TASK_ID"]
    signature = sign_enclave_result(env["SIGN_TEE_CHALLENGE_PRIVATE_KEY"], worker, task, digest)
    link = ""
    if not callback:
        with tempfile.TemporaryDirectory(prefix="tee-post-") as scratch:
            link = _upload(env, digest, signature, _archive(iexec_out, Path(scratch), env))
        say(Stage.POST, f"result uploaded: {link}")
    return {
        "computed": {
            "deterministic-output-path": computed.deterministic_output_path,
            "callback-data": computed.callback_data,
            "task-id": task,
            "result-digest": digest,
            "enclave-signature": signature,
            "result-link": link,
        }
    }


if __name__ == "__main__":
    main(Stage.POST, lambda: program_measurement(Stage.POST), work)
