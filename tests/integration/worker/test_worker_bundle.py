"""Safe bundle extraction (docs/contracts.md "App bundles"): nothing may land or point outside."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from pocopool.worker.bundle import BundleError, load_app, safe_extract

LIMIT = 10 * 2**20


def archive(*members: tuple[str, str, object]) -> bytes:
    """A .tar.gz from (kind, name, payload) with kind file|dir|symlink|hardlink|chr|fifo."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name)
            data = None
            if kind == "file":
                data = payload if isinstance(payload, bytes) else str(payload).encode()
                info.size = len(data)
                info.mode = 0o600
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o700
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(payload)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, str(payload)
            elif kind == "chr":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            elif kind == "huge":  # zeros: compresses to almost nothing, expands past the limit
                data = bytes(int(payload))
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


APP_JSON = json.dumps({"name": "hello", "entrypoint": ["python3", "main.py"]})


def test_a_bundle_in_a_top_directory_is_extracted_and_readable_by_any_uid(tmp_path: Path) -> None:
    data = archive(
        ("dir", "hello", None),
        ("file", "hello/app.json", APP_JSON),
        ("file", "hello/main.py", "print(1)"),
        ("symlink", "hello/alias.py", "main.py"),
    )
    safe_extract(data, tmp_path / "x", LIMIT)
    app = load_app(tmp_path / "x")
    assert app.root == tmp_path / "x" / "hello"
    assert app.entrypoint == ("python3", "main.py")
    assert (app.root / "main.py").stat().st_mode & 0o777 == 0o644
    assert app.root.stat().st_mode & 0o777 == 0o755
    assert (app.root / "alias.py").read_text() == "print(1)"


def test_a_bundle_with_app_json_at_the_top_is_used_as_is(tmp_path: Path) -> None:
    safe_extract(archive(("file", "./app.json", APP_JSON), ("file", "./main.py", "")), tmp_path, LIMIT)
    assert load_app(tmp_path).root == tmp_path


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ([("file", "/etc/evil", "x")], "absolute path"),
        ([("file", "../evil", "x")], "'..' in path"),
        ([("file", "app/../../evil", "x")], "'..' in path"),
        ([("symlink", "passwd", "/etc/passwd")], "symlink to absolute path"),
        ([("dir", "app", None), ("symlink", "app/up", "../../..")], "points outside the bundle"),
        ([("hardlink", "shadow", "../../etc/shadow")], "points outside the bundle"),
        ([("hardlink", "shadow", "/etc/shadow")], "points outside the bundle"),
        ([("hardlink", "copy", "not-in-archive")], "not a file of the bundle"),
        ([("chr", "null", None)], "device file"),
        ([("fifo", "pipe", None)], "FIFO"),
        ([("huge", "big.bin", 11 * 2**20)], "exceeds"),
    ],
)
def test_unsafe_members_are_refused_and_nothing_is_written_outside(
    tmp_path: Path, members: list[tuple[str, str, object]], reason: str
) -> None:
    target = tmp_path / "deep" / "bundle"
    with pytest.raises(BundleError, match=reason):
        safe_extract(archive(*members), target, LIMIT)
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "deep" / "evil").exists()


def test_a_link_chain_escaping_through_another_link_is_refused(tmp_path: Path) -> None:
    # "self" -> "." is inside, and "self/.." looks inside lexically but is the parent on disk.
    data = archive(("symlink", "self", "."), ("symlink", "escape", "self/.."), ("file", "escape/evil", "x"))
    with pytest.raises(BundleError):
        safe_extract(data, tmp_path / "bundle", LIMIT)
    assert not (tmp_path / "evil").exists()


def test_something_that_is_not_a_tar_archive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not a tar archive"):
        safe_extract(b"<html>not found</html>", tmp_path, LIMIT)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no app.json"),
        ("{not json", "not valid JSON"),
        ('["python3"]', "JSON object"),
        ('{"entrypoint": []}', "non-empty"),
        ('{"entrypoint": "python3 main.py"}', "non-empty"),
        ('{"entrypoint": [""]}', "non-empty"),
    ],
)
def test_app_json_must_name_an_entrypoint(tmp_path: Path, content: str | None, reason: str) -> None:
    members = [("file", "main.py", "")] + ([("file", "app.json", content)] if content is not None else [])
    safe_extract(archive(*members), tmp_path, LIMIT)
    with pytest.raises(BundleError, match=reason):
        load_app(tmp_path)


def test_app_json_as_a_symlink_is_refused(tmp_path: Path) -> None:
    safe_extract(archive(("file", "real.json", APP_JSON), ("symlink", "app.json", "real.json")), tmp_path, LIMIT)
    with pytest.raises(BundleError, match="no app.json"):
        load_app(tmp_path)
