"""The requester's side of confidential tasks that needs no running service: the app's enclave
configuration computed from its bundle, and the `--secret N=VALUE` options."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocopool.client import bundle
from pocopool.client.errors import BadInput
from pocopool.client.sms import parse_secret_options
from pocopool.protocol.tee import EnclaveConfig, bundle_fingerprint

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "examples" / "apps" / "hello"


def test_the_enclave_configuration_pins_the_files_of_the_bundle(tmp_path: Path) -> None:
    app = bundle.load(HELLO)
    config = EnclaveConfig.parse(app.enclave_config(256 * 2**20).to_json())
    files = sorted(
        (p.relative_to(HELLO).as_posix(), p.read_bytes())
        for p in HELLO.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert config.fingerprint == bundle_fingerprint(files)
    assert config.provider == "GRAMINE" and config.heap_size == 256 * 2**20
    assert config.entrypoint == " ".join(app.entrypoint)
    # the same files packed again give the same fingerprint; one changed byte another
    copy = tmp_path / "hello"
    copy.mkdir()
    for name, data in files:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(data)
    assert bundle.load(copy).enclave_config(1).fingerprint == config.fingerprint
    (copy / files[0][0]).write_bytes(files[0][1] + b"\n")
    assert bundle.load(copy).enclave_config(1).fingerprint != config.fingerprint


def test_secret_options_become_indexed_values() -> None:
    assert parse_secret_options(["1=alpha", "2=b=c"]) == {"1": "alpha", "2": "b=c"}
    assert parse_secret_options([]) == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["0=HUSH"], "positive integer"),
        (["a=HUSH"], "positive integer"),
        (["01=HUSH"], "positive integer"),
        (["1"], "N=VALUE"),
        (["1="], "empty value"),
        (["1=HUSH", "1=HUSH2"], "given twice"),
    ],
)
def test_bad_secret_options_are_one_line_and_never_echo_the_value(options: list[str], message: str) -> None:
    with pytest.raises(BadInput) as error:
        parse_secret_options(options)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert "HUSH" not in str(error.value)
