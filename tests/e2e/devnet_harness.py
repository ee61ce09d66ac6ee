"""A real devnet (real processes, real HTTP, real SQLite files) driven through the `pocopool` command."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, home: Path | None = None, timeout: float = 180.0, check: bool = True) -> CliResult:
    argv = [sys.executable, "-m", "pocopool.cli", *args]
    if home is not None:
        argv += ["--home", str(home)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    result = CliResult(done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        pytest.fail(f"pocopool {' '.join(args)} exited {done.returncode}:\n{done.stderr}\n{done.stdout}")
    return result


@dataclass
class Devnet:
    home: Path
    status: dict[str, Any]

    def cli(self, *args: str, check: bool = True, timeout: float = 180.0) -> CliResult:
        return run_cli(*args, home=self.home, check=check, timeout=timeout)

    def deploy_app(self, path: Path) -> str:
        return self.cli("app", "deploy", str(path), "--json").json()["app"]

    def logs(self) -> str:
        parts = []
        for log in sorted((self.home / "logs").glob("*.log")):
            parts.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        return "\n".join(parts)
