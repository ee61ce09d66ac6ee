"""The tee-sim pre-compute enclave (simulated): download the encrypted dataset and the input files,
check the dataset's checksum, decrypt it with the key only this enclave receives, and write the plain
files into the task's input folder (spec/worker.md §8.5 "Pre-compute enclave algorithm").

Run by the worker as `python -m pocopool.teesim.precompute` in its own sandbox (docs/tee.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from ..protocol.crypto import sha256_hex
from ..protocol.enclave import ENV_IEXEC_IN
from ..protocol.encryption import EncryptionError, decrypt_dataset
from ..protocol.tee import Stage
from .enclave import StageFailure, main, say, worker_path
from .measurements import program_measurement

MAX_DOWNLOAD_BYTES = 1024 * 2**20
TIMEOUT = 60.0


def _download(url: str, cause: str) -> bytes:
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as http, http.stream("GET", url) as answer:
            if answer.status_code != 200:
                raise StageFailure([cause], f"{answer.status_code} GET {url}")
            chunks, size = [], 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise StageFailure([cause], f"GET {url}: more than {MAX_DOWNLOAD_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except (httpx.HTTPError, httpx.InvalidURL) as error:  # InvalidURL is not an HTTPError
        raise StageFailure([cause], f"GET {url}: {type(error).__name__}: {error}") from error


def _save(path: Path, content: bytes, cause: str) -> None:
    try:
        path.write_bytes(content)
        path.chmod(0o644)
    except OSError as error:
        raise StageFailure([cause], f"cannot write {path.name}: {error}") from error


def _missing(env: dict[str, str]) -> list[tuple[str, str]]:
    """(cause, variable) of each variable the session should hold and does not (or holds empty)."""
    missing = [
        (cause, name)
        for name, cause in (
            ("IEXEC_PRE_COMPUTE_OUT", "OUTPUT_PATH_MISSING"),
            ("IS_DATASET_REQUIRED", "IS_DATASET_REQUIRED_MISSING"),
            ("IEXEC_INPUT_FILES_NUMBER", "INPUT_FILES_NUMBER_MISSING"),
        )
        if name not in env
    ]
    if env.get("IS_DATASET_REQUIRED") == "true":
        missing += [
            (f"DATASET_{what}_MISSING", f"IEXEC_DATASET_{what}")
            for what in ("FILENAME", "URL", "CHECKSUM", "KEY")
            if not env.get(f"IEXEC_DATASET_{what}")
        ]
    count = env.get("IEXEC_INPUT_FILES_NUMBER", "0")
    empty = [f"IEXEC_INPUT_FILE_URL_{i}" for i in range(1, int(count) + 1)] if count.isdigit() else []
    empty = [name for name in empty if not env.get(name)]
    if empty:
        missing.append(("AT_LEAST_ONE_INPUT_FILE_URL_MISSING", ", ".join(empty)))
    return missing


def work(env: dict[str, str]) -> dict:
    missing = _missing(env)
    if missing:
        names = ", ".join(name for _, name in missing)
        raise StageFailure([cause for cause, _ in missing], f"the session has no (or an empty) {names}")
    output = worker_path(ENV_IEXEC_IN)  # the SMS's IEXEC_PRE_COMPUTE_OUT, as this sandbox sees it
    if not output.is_dir():
        raise StageFailure(["OUTPUT_FOLDER_NOT_FOUND"], f"{env['IEXEC_PRE_COMPUTE_OUT']} does not exist")
    if env["IS_DATASET_REQUIRED"] == "true":
        url, expected = env["IEXEC_DATASET_URL"], env["IEXEC_DATASET_CHECKSUM"].strip().lower()
        encrypted = _download(url, "DATASET_DOWNLOAD_FAILED")
        found = sha256_hex(encrypted)
        if found != expected:
            raise StageFailure(
                ["INVALID_DATASET_CHECKSUM"], f"the dataset at {url} has checksum {found}, the chain says {expected}"
            )
        try:
            plain = decrypt_dataset(encrypted, env["IEXEC_DATASET_KEY"])
        except EncryptionError as error:
            raise StageFailure(["DATASET_DECRYPTION_FAILED"], f"the dataset cannot be decrypted: {error}") from error
        _save(output / env["IEXEC_DATASET_FILENAME"], plain, "SAVING_PLAIN_DATASET_FAILED")
        say(Stage.PRE, f"dataset decrypted into {env['IEXEC_DATASET_FILENAME']} ({len(plain)} bytes)")
    for index in range(1, int(env["IEXEC_INPUT_FILES_NUMBER"]) + 1):
        url = env[f"IEXEC_INPUT_FILE_URL_{index}"]
        content = _download(url, "INPUT_FILE_DOWNLOAD_FAILED")
        _save(output / ("0x" + hashlib.sha256(url.encode()).hexdigest()), content, "INPUT_FILE_DOWNLOAD_FAILED")
    return {"done": True}


if __name__ == "__main__":
    main(Stage.PRE, lambda: program_measurement(Stage.PRE), work)
