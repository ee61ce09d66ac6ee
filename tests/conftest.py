"""Shared test helpers: the `pocopool` command as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


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
