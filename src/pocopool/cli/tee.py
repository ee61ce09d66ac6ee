"""`pocopool keys …`: the beneficiary's result-encryption key pair for confidential (TEE) tasks."""

from __future__ import annotations

from pathlib import Path

import typer

from ..client.confidential import write_new
from ..client.errors import BadInput
from ..client.sms import SmsClient
from ..protocol import crypto, encryption
from .context import open_context, sms_url

keys_app = typer.Typer(help="Keys for confidential (TEE) tasks.", no_args_is_help=True)
SmsOption = typer.Option(None, "--sms", envvar="POCOPOOL_SMS", help="SMS base URL (default: the devnet's).")


def register(app: typer.Typer, handled, emit, render, home_option, json_option, key_option) -> None:  # noqa: ANN001
    """Adds the `keys` commands to the main CLI. The main module owns the error handling, the output
    and the shared options, and passes them in (importing it here would be a cycle)."""

    @keys_app.command("result-key")
    @handled
    def result_key(
        out: Path = typer.Option(
            ..., "--out", file_okay=False, help="Folder for the private key (created, 0600 file)."
        ),
        push: bool = typer.Option(True, "--push/--no-push", help="Push the public key to the SMS (default) or not."),
        sms: str | None = SmsOption,
        home: Path | None = home_option,
        as_json: bool = json_option,
        key: Path | None = key_option,
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

    app.add_typer(keys_app, name="keys")
