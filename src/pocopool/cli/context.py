"""Where the CLI finds the pocopool it talks to: a devnet home (--home or POCOPOOL_HOME)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..chain.base import Chain
from ..client.errors import BadInput
from ..client.sdk import DirectoryPublisher, Requester
from ..devnet import manager
from ..protocol.keys import Wallet


@dataclass
class Context:
    home: Path
    state: manager.DevnetState
    chain: Chain
    requester: Requester

    def close(self) -> None:
        self.requester.close()
        self.chain.close()


def resolve_home(home: Path | None) -> Path:
    if home is None:
        raise BadInput("say which pocopool to use: --home DIR or the POCOPOOL_HOME variable")
    return home


def sms_url(ctx: Context, given: str | None) -> str:
    """The SMS a confidential command talks to: --sms, else the devnet's."""
    url = given or getattr(ctx.state, "sms", None)
    if not url:
        raise BadInput(f"no SMS known for the devnet in {ctx.home}: pass --sms URL (confidential tasks need one)")
    return url


def open_context(home: Path | None, key_file: Path | None = None) -> Context:
    home = resolve_home(home).resolve()
    state = manager.load_state(home)
    chain = manager.open_chain(state)
    key_path = key_file or Path(state.keys.requester)
    try:
        account = Wallet.from_key(manager.read_key(key_path))
    except (OSError, ValueError) as error:
        chain.close()
        raise BadInput(f"cannot read the key in {key_path}: {error}") from error
    if state.scheduler is None:
        chain.close()
        raise BadInput(f"the devnet in {home} has no scheduler: start it with `pocopool devnet start --home {home}`")
    publisher = DirectoryPublisher(home / "files", state.files) if state.files else None
    requester = Requester(chain, account, state.scheduler, publisher)
    return Context(home, state, chain, requester)
