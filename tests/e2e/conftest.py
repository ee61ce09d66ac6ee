"""The devnet shared by the e2e tests: started once, stopped at the end whatever happens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devnet_harness import Devnet, run_cli


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    home = tmp_path_factory.mktemp("devnet")
    status = run_cli("devnet", "start", "--workers", "3", "--slots", "2", "--json", home=home, timeout=120).json()
    net = Devnet(home, status)
    try:
        yield net
    finally:
        run_cli("devnet", "stop", home=home, check=False)
