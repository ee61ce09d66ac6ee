"""The devnet's TEE parts (docs/tee.md): the simulated platform key and the SMS command line.

The tee-sim platform key signs enclave quotes; it is created once per devnet home
(`<home>/teesim/platform.key`, 0600) and kept across restarts, so the SMS trusts the same address.
"""

from __future__ import annotations

from pathlib import Path

from ..protocol.crypto import address_of, new_private_key
from ..protocol.tee import Stage
from ..service.secrets import load_or_create_key_file
from ..teesim.measurements import program_measurement

PLATFORM_KEY = Path("teesim") / "platform.key"


def platform_key(home: Path) -> tuple[Path, str]:
    """The tee-sim platform key file of `home` (created once, 0600) and the address it signs as."""
    path = home / PLATFORM_KEY
    key = load_or_create_key_file(path, new_private_key, "the simulated platform key")
    return path, address_of(key)


def sms_argv(python: str, chain: str, home: Path, port: int, results_url: str, platform: str) -> list[str]:
    """`python -m pocopool.sms`, on the devnet's chain, trusting the devnet's tee-sim platform."""
    return [
        python,
        "-m",
        "pocopool.sms",
        "--chain",
        chain,
        "--home",
        str(home / "sms"),
        "--port",
        str(port),
        "--result-proxy",
        results_url,
        "--trust-platform",
        platform,
        *pinned_programs(),
    ]


def pinned_programs() -> list[str]:
    """The SMS options that pin tee-sim's pre- and post-compute measurements (sms/provisioning.py)."""
    return [
        "--pre-compute-measurement",
        program_measurement(Stage.PRE),
        "--post-compute-measurement",
        program_measurement(Stage.POST),
    ]
