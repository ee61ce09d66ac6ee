"""One result-digest rule (spec/worker.md §6.7, decision 100): the worker reading iexec_out on disk and
the result store reading the zip the worker uploads compute the same digest, or both refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pocopool.protocol.crypto import keccak_hex, sha256_hex
from pocopool.protocol.digest import ComputedFile, DigestError
from pocopool.result_folder import compute_digest, zip_folder
from pocopool.results.archive import InvalidArchive, archive_digest

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "data" / "vectors.json").read_text())


def both(
    iexec_out: Path, scratch: Path, deterministic: str | None, callback_data: str | None = None, callback: bool = False
) -> tuple[str, str]:
    """The worker's digest and the store's, of the same output; DigestError if both refuse."""
    fields = {"deterministic-output-path": deterministic, "callback-data": callback_data}
    raw = json.dumps(fields).encode()
    (iexec_out / "computed.json").write_bytes(raw)
    zip_folder(iexec_out, scratch / "iexec_out.zip")
    worker: str | DigestError
    try:
        worker = compute_digest(iexec_out, ComputedFile.parse(raw), callback)
    except DigestError as error:
        worker = error
    try:
        store = archive_digest((scratch / "iexec_out.zip").read_bytes(), callback=callback).digest
    except InvalidArchive as refused:
        assert isinstance(worker, DigestError), f"the store refuses ({refused}) what the worker hashed"
        raise worker from None
    assert not isinstance(worker, DigestError), f"the worker refuses ({worker}) what the store hashed"
    return worker, store


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "iexec_out"
    folder.mkdir()
    return folder


def test_the_spec_vectors_give_the_same_digest_on_disk_and_in_the_zip(out: Path, tmp_path: Path) -> None:
    vector = VECTORS["resultDigest"]
    (out / "out.txt").write_text(vector["file"]["content_utf8"])
    (out / "folder").mkdir()
    for name, content in vector["folder"]["children_utf8"].items():
        (out / "folder" / name).write_text(content)
    assert both(out, tmp_path, "/iexec_out/out.txt") == (vector["file"]["digest"],) * 2
    assert both(out, tmp_path, "/iexec_out/folder") == (vector["folder"]["digest"],) * 2


def test_a_link_in_a_result_folder_counts_as_the_empty_file_the_zip_holds(out: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("the worker's own file")
    (out / "res").mkdir()
    (out / "res" / "a.txt").write_text("A")
    (out / "res" / "latest").symlink_to(out / "res" / "a.txt")  # was: the target's bytes on disk
    (out / "res" / "leak").symlink_to(tmp_path / "secret")  # was: nothing on disk
    (out / "res" / "dir").symlink_to(tmp_path)  # was: nothing on disk
    worker, store = both(out, tmp_path, "/iexec_out/res")
    empty = bytes.fromhex(sha256_hex(b"")[2:])
    assert worker == store == keccak_hex(bytes.fromhex(sha256_hex(b"A")[2:]) + empty * 3)


def test_dot_segments_are_dropped_and_dot_dot_is_refused_by_both(out: Path, tmp_path: Path) -> None:
    (out / "sub").mkdir()
    (out / "result.txt").write_text("R")
    assert both(out, tmp_path, "/iexec_out/./result.txt") == (sha256_hex(b"R"),) * 2
    with pytest.raises(DigestError, match="'..'"):  # the store used to normalise it to /iexec_out/result.txt
        both(out, tmp_path, "/iexec_out/sub/../result.txt")


def test_a_missing_output_path_is_refused_by_the_worker_so_the_store_never_sees_it(out: Path, tmp_path: Path) -> None:
    with pytest.raises(DigestError, match="does not exist"):
        compute_digest(out, ComputedFile("/iexec_out/missing.txt", None, None), False)
    with pytest.raises(DigestError, match="does not exist"):  # under a file: both refuse
        (out / "a.txt").write_text("A")
        both(out, tmp_path, "/iexec_out/a.txt/missing")


def test_an_empty_result_folder_that_the_zip_cannot_carry_is_keccak_of_nothing_for_both(
    out: Path, tmp_path: Path
) -> None:
    (out / "empty").mkdir()
    assert both(out, tmp_path, "/iexec_out/empty") == (keccak_hex(b""),) * 2


def test_callback_data_0x_is_keccak_of_no_bytes_for_both(out: Path, tmp_path: Path) -> None:
    assert both(out, tmp_path, None, "0x", callback=True) == (keccak_hex(b""),) * 2  # the store refused it
    with pytest.raises(DigestError, match="callback-data"):
        both(out, tmp_path, None, "", callback=True)
