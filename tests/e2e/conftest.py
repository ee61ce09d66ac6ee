"""A real devnet (real processes, real HTTP, real SQLite files) shared by the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..conftest import run_cli


@dataclass
class Devnet:
    home: Path
    status: dict[str, Any]

    def cli(self, *args: str, check: bool = True, timeout: float = 180.0):  # noqa: ANN201
        return run_cli(*args, home=self.home, check=check, timeout=timeout)

    def deploy_app(self, path: Path) -> str:
        return self.cli("app", "deploy", str(path), "--json").json()["app"]

    def logs(self) -> str:
        parts = []
        for log in sorted((self.home / "logs").glob("*.log")):
            parts.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        return "\n".join(parts)


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    home = tmp_path_factory.mktemp("devnet")
    status = run_cli("devnet", "start", "--workers", "3", "--slots", "2", "--json", home=home, timeout=120).json()
    net = Devnet(home, status)
    try:
        yield net
    finally:
        run_cli("devnet", "stop", home=home, check=False)
