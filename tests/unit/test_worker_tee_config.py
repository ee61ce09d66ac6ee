"""The worker's TEE options: --tee needs the simulated platform key, and registers teeEnabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocopool.protocol.crypto import new_private_key
from pocopool.service.startup import StartupError
from pocopool.worker.config import parse


def argv(tmp_path: Path, *extra: str) -> list[str]:
    key = tmp_path / "worker.key"
    key.write_text(new_private_key() + "\n")
    return [
        "--scheduler",
        "http://127.0.0.1:1",
        "--chain",
        "local:/x",
        "--key-file",
        str(key),
        "--workdir",
        str(tmp_path / "w"),
        *extra,
    ]


def test_tee_without_a_platform_key_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"^--tee needs --tee-platform-key-file \(the simulated platform key"):
        parse(argv(tmp_path, "--tee"))


def test_tee_options_reach_the_config(tmp_path: Path) -> None:
    config, _, _ = parse(argv(tmp_path, "--tee", "--tee-platform-key-file", "platform.key", "--tee-max-heap-mb", "64"))
    assert config.tee and config.tee_platform_key_file == Path("platform.key").resolve()
    assert config.tee_max_heap_mb == 64
    standard, _, _ = parse(argv(tmp_path))
    assert not standard.tee and standard.tee_platform_key_file is None and standard.tee_max_heap_mb == 1024
    with pytest.raises(StartupError, match="--tee-max-heap-mb must be at least 1"):
        parse(argv(tmp_path, "--tee-max-heap-mb", "0"))
