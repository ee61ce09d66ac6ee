"""The devnet's TEE parts: one simulated platform key per home, and the SMS in the saved state."""

from __future__ import annotations

import stat
from pathlib import Path

from pocopool.devnet import tee
from pocopool.devnet.state import DevnetState, Keys


def test_the_platform_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path, address = tee.platform_key(tmp_path)
    assert path == tmp_path / "teesim" / "platform.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tee.platform_key(tmp_path) == (path, address)  # a restart trusts the same platform
    argv = tee.sms_argv("py", "local:/c.db", tmp_path, 1234, "http://r", address)
    assert argv[argv.index("--trust-platform") + 1] == address and argv[argv.index("--home") + 1] == str(
        tmp_path / "sms"
    )


def test_the_sms_url_is_kept_in_devnet_json() -> None:
    keys = Keys(owner="o", scheduler="s", requester="r")
    state = DevnetState(
        home="/h",
        chain="local:/c",
        chain_id=1,
        workerpool="0x1",
        owner="0x2",
        scheduler_wallet="0x3",
        requester="0x4",
        keys=keys,
        sms="http://127.0.0.1:9",
    )
    assert DevnetState.from_json(state.to_json()).sms == "http://127.0.0.1:9"
