"""Result zips on disk: written once, whole or not at all."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pocopool.protocol.crypto import sha256_hex
from pocopool.results.store import AlreadyStored, ResultStore

TASK = "0x" + "AB" * 32


def test_a_saved_result_exists_under_its_lowercase_task_id(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    assert not store.exists(TASK)
    assert store.size(TASK) is None
    assert store.sha256(TASK) is None
    path = store.save(TASK, b"zip")
    assert path == tmp_path / f"{TASK.lower()}.zip"
    assert path.read_bytes() == b"zip"
    assert store.exists(TASK) and store.exists(TASK.lower())
    assert store.size(TASK) == 3
    assert store.sha256(TASK) == sha256_hex(b"zip")
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_a_result_is_written_once(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.save(TASK, b"first")
    with pytest.raises(AlreadyStored):
        store.save(TASK, b"second")
    assert store.path_of(TASK).read_bytes() == b"first"
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_concurrent_saves_store_exactly_one_whole_result(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    outcomes: list[str] = []
    bodies = [bytes([i]) * 1_000_000 for i in range(6)]

    def save(body: bytes) -> None:
        try:
            store.save(TASK, body)
            outcomes.append("stored")
        except AlreadyStored:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["stored"]
    assert store.path_of(TASK).read_bytes() in bodies


def test_leftover_temporary_files_are_removed_at_start(tmp_path: Path) -> None:
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / "0xab.part").write_bytes(b"half a zip")
    ResultStore(tmp_path)
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_only_task_ids_name_files(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    with pytest.raises(ValueError):
        store.path_of("../../etc/passwd")
