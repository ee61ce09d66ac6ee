"""Standard post-compute and result digest (spec/worker.md §6.5-§6.7), against spec/vectors.json."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from pocopool.protocol.crypto import keccak_hex, sha256_hex
from pocopool.protocol.digest import error_result_text
from pocopool.protocol.statuses import ReplicateStatus as RS
from pocopool.protocol.statuses import ReplicateStatusCause as Cause
from pocopool.worker.error_result import write_error_result
from pocopool.worker.postcompute import PostComputeError, post_compute, read_result, zip_folder
from pocopool.worker.workspace import TaskPaths
from proving import assert_reported

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "data" / "vectors.json").read_text())


@pytest.fixture
def paths(tmp_path: Path) -> TaskPaths:
    task = TaskPaths(tmp_path / ("0x" + "12" * 32))
    task.iexec_out.mkdir(parents=True)
    return task


def computed(paths: TaskPaths, deterministic: str | None, **more: object) -> None:
    (paths.iexec_out / "computed.json").write_text(json.dumps({"deterministic-output-path": deterministic, **more}))


def test_the_digest_of_a_file_result_is_the_vector(paths: TaskPaths) -> None:
    vector = VECTORS["resultDigest"]["file"]
    (paths.iexec_out / "result.txt").write_text(vector["content_utf8"])
    computed(paths, "/iexec_out/result.txt")
    assert post_compute(paths, has_callback=False).digest == vector["digest"]


def test_the_digest_of_a_folder_result_is_the_vector(paths: TaskPaths) -> None:
    vector = VECTORS["resultDigest"]["folder"]
    folder = paths.iexec_out / "folder"
    folder.mkdir()
    for name, content in vector["children_utf8"].items():
        (folder / name).write_text(content)
    (folder / "nested").mkdir()  # a child folder adds nothing (not hashed recursively)
    (folder / "nested" / "ignored.txt").write_text("ignored")
    computed(paths, "/iexec_out/folder")
    assert post_compute(paths, has_callback=False).digest == vector["digest"]


def test_the_whole_iexec_out_folder_can_be_the_result(paths: TaskPaths) -> None:
    (paths.iexec_out / "a.txt").write_text("A")
    computed(paths, "/iexec_out")
    info = post_compute(paths, has_callback=False)
    children = sorted(p for p in paths.iexec_out.iterdir())
    expected = keccak_hex(b"".join(bytes.fromhex(sha256_hex(p.read_bytes())[2:]) for p in children))
    assert info.digest == expected


def test_a_callback_deal_votes_on_the_callback_data(paths: TaskPaths) -> None:
    computed(paths, None, **{"callback-data": "0x" + "00" * 31 + "2a"})
    info = post_compute(paths, has_callback=True)
    assert info.digest == keccak_hex(bytes(31) + b"\x2a")
    assert info.callback_data == "0x" + "00" * 31 + "2a"


def test_result_file_names_longer_than_31_characters_are_refused(paths: TaskPaths) -> None:
    (paths.iexec_out / "sub").mkdir()
    (paths.iexec_out / "sub" / ("x" * 32)).write_text("too long")
    (paths.iexec_out / ("y" * 31)).write_text("fine")
    computed(paths, "/iexec_out")
    with pytest.raises(PostComputeError) as raised:
        post_compute(paths, has_callback=False)
    assert raised.value.cause is Cause.POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME
    assert "sub/" + "x" * 32 in raised.value.message


def test_a_missing_computed_json_is_reported_after_zipping(paths: TaskPaths) -> None:
    (paths.iexec_out / "result.txt").write_text("no computed.json")
    with pytest.raises(PostComputeError) as raised:
        post_compute(paths, has_callback=False)
    assert raised.value.cause is Cause.POST_COMPUTE_COMPUTED_FILE_NOT_FOUND
    assert paths.zip.is_file()


@pytest.mark.parametrize(
    ("deterministic", "reason"),
    [
        (None, "no deterministic-output-path"),
        ("/etc/passwd", "not under /iexec_out"),
        ("/iexec_out/../../etc/passwd", "'..'"),
        ("/iexec_out/missing.txt", "does not exist"),
        ("/iexec_out/leak", "symbolic link"),
        ("/iexec_out/leak/x", "symbolic link"),
    ],
)
def test_a_digest_that_cannot_be_computed_inside_iexec_out_is_refused(
    paths: TaskPaths, tmp_path: Path, deterministic: str | None, reason: str
) -> None:
    secret = tmp_path / "worker.key"
    secret.write_text("0xsecret")
    (paths.iexec_out / "leak").symlink_to(secret)
    computed(paths, deterministic)
    with pytest.raises(PostComputeError, match=reason) as raised:
        post_compute(paths, has_callback=False)
    assert raised.value.cause is Cause.POST_COMPUTE_RESULT_DIGEST_COMPUTATION_FAILED


def test_the_zip_holds_relative_sorted_file_entries_only_and_is_deterministic(paths: TaskPaths, tmp_path: Path) -> None:
    (paths.iexec_out / "b").mkdir()
    (paths.iexec_out / "b" / "two.txt").write_text("2")
    (paths.iexec_out / "a.txt").write_text("1")
    (paths.iexec_out / "empty").mkdir()
    (paths.iexec_out / "link").symlink_to(tmp_path)  # a link (here to a folder) is an empty entry
    zip_folder(paths.iexec_out, tmp_path / "one.zip")
    os.utime(paths.iexec_out / "a.txt", (0, 0))
    zip_folder(paths.iexec_out, tmp_path / "two.zip")
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["a.txt", "b/two.txt", "link"]
        assert archive.read("b/two.txt") == b"2"
        assert archive.read("link") == b""
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()


def test_the_error_result_is_the_reference_text_and_its_digest(paths: TaskPaths) -> None:
    (paths.iexec_out / "leftover.txt").write_text("from an earlier attempt")
    info = write_error_result(paths, RS.APP_DOWNLOAD_FAILED, [Cause.APP_IMAGE_DOWNLOAD_FAILED], has_callback=False)
    text = (
        "[IEXEC] Errors occurred while computing the task [error:APP_DOWNLOAD_FAILED, "
        "causes:[WorkflowError[cause=APP_IMAGE_DOWNLOAD_FAILED, message=]]]"
    )
    assert error_result_text("APP_DOWNLOAD_FAILED", "APP_IMAGE_DOWNLOAD_FAILED") == text
    assert (paths.iexec_out / "error.txt").read_bytes() == text.encode()
    assert info.digest == sha256_hex(text.encode())
    assert json.loads(paths.computed.read_text())["deterministic-output-path"] == "/iexec_out/error.txt"
    with zipfile.ZipFile(paths.zip) as archive:
        assert archive.namelist() == ["computed.json", "error.txt"]
    assert read_result(paths, has_callback=False).digest == info.digest


def test_an_error_result_cannot_serve_a_callback_deal(paths: TaskPaths) -> None:
    with pytest.raises(PostComputeError) as raised:
        write_error_result(paths, RS.DATA_DOWNLOAD_FAILED, [Cause.DATASET_FILE_BAD_CHECKSUM], has_callback=True)
    assert raised.value.cause is Cause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE
    assert_reported(
        [("DATA_DOWNLOAD_FAILED", raised.value.cause.value, raised.value.message)],
        status="DATA_DOWNLOAD_FAILED",
        cause="POST_COMPUTE_FAILED_UNKNOWN_ISSUE",
        error="callback",
        component="worker",
        fix="worker's log",
    )
