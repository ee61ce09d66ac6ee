"""`pocopool keys …`: the beneficiary's result-encryption key pair for confidential (TEE) tasks."""

from __future__ import annotations

from pathlib import Path

import typer

from ..client.confidential import write_new
from ..client.errors import BadInput
from ..client.sms import SmsClient
from ..protocol import crypto, encryption
from . import render
from .common import HomeOption, JsonOption, KeyOption, emit, handled
from .context import open_context, sms_url

keys_app = typer.Typer(help="Keys for confidential (TEE) tasks.", no_args_is_help=True)
SmsOption = typer.Option(None, "--sms", envvar="POCOPOOL_SMS", help="SMS base URL (default: the devnet's).")


@keys_app.command("result-key")
@handled
def result_key(
    out: Path = typer.Option(..., "--out", file_okay=False, help="Folder for the private key (created, 0600 file)."),
    push: bool = typer.Option(True, "--push/--no-push", help="Push the public key to the SMS (default) or not."),
    sms: str | None = SmsOption,
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
    key: Path | None = KeyOption,
) -> None:
    """Create the beneficiary's RSA key pair: the private key stays in OUT, the public key goes to the
    SMS, so that post-compute encrypts your results for you (`run --encrypt-result`)."""
    private_pem, public_pem = encryption.generate_rsa_keypair()
    out.mkdir(parents=True, exist_ok=True)
    private_file, public_file = out / "result-key.pem", out / "result-key.pub.pem"
    for target in (private_file, public_file):
        if target.exists():
            raise BadInput(f"{target} already exists: remove it or choose another --out folder")
    data: dict[str, object] = {
        "privateKeyFile": str(private_file),
        "publicKeyFile": str(public_file),
        "pushed": False,
    }
    if push:
        ctx = open_context(home, key)
        try:
            client = SmsClient(sms_url(ctx, sms), crypto.key_hex(ctx.requester.account))
            client.push_result_key(encryption.public_key_b64(public_pem))
            data.update(pushed=True, beneficiary=client.address, sms=client.url)
        finally:
            ctx.close()
    write_new(private_file, private_pem.encode(), 0o600)
    write_new(public_file, public_pem.encode(), 0o644)
    emit(
        data,
        as_json,
        lambda d: render.console.print(
            f"private key {d['privateKeyFile']} (keep it: it alone opens your results)"
            + (f"\n  public key pushed to {d['sms']} for {d['beneficiary']}" if d["pushed"] else "")
        ),
    )
