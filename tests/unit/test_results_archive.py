"""Reading an uploaded result zip and recomputing its digest (spec/worker.md §6.6–6.7)."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from pocopool.protocol.crypto import keccak_hex
from pocopool.protocol.digest import DigestError, callback_digest, file_digest, folder_digest, output_relative_path
from pocopool.results.archive import ArchiveLimits, InvalidArchive, archive_digest

SPEC = Path(__file__).resolve().parents[1] / "data"  # a copy of shared/spec/vectors.json
VECTORS = json.loads((SPEC / "vectors.json").read_text())


def make_zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def computed(path: str, **extra: object) -> bytes:
    return json.dumps({"deterministic-output-path": path, **extra}).encode()


def test_a_file_output_digest_is_the_sha256_of_the_file() -> None:
    data = make_zip({"computed.json": computed("/iexec_out/greeting.txt"), "greeting.txt": b"Hello, World!\n"})
    found = archive_digest(data, callback=False)
    assert found.digest == file_digest(b"Hello, World!\n")
    assert found.source == "file"


def test_digests_match_the_spec_vectors() -> None:
    vector = VECTORS["resultDigest"]
    content = vector["file"]["content_utf8"].encode()
    file_zip = make_zip({"computed.json": computed("/iexec_out/out.txt"), "out.txt": content})
    assert archive_digest(file_zip, callback=False).digest == vector["file"]["digest"]
    children = {name: text.encode() for name, text in vector["folder"]["children_utf8"].items()}
    folder_zip = make_zip(
        {
            "computed.json": computed("/iexec_out/folder"),
            **{f"folder/{name}": content for name, content in reversed(list(children.items()))},
        }
    )
    assert archive_digest(folder_zip, callback=False).digest == vector["folder"]["digest"]


def test_the_whole_output_folder_counts_every_direct_child_including_computed_json() -> None:
    entries = {
        "computed.json": computed("/iexec_out"),
        "b.txt": b"B",
        "a.txt": b"A",
        "stdout.txt": b"log\n",
        "sub/deep.txt": b"not hashed",
    }
    found = archive_digest(make_zip(entries), callback=False)
    direct_files = [(name, content) for name, content in entries.items() if "/" not in name]
    expected = folder_digest([*direct_files, ("sub", None)])
    assert found.digest == expected
    assert found.source == "folder"
    assert archive_digest(make_zip({**entries, "computed.json": computed("/iexec_out/")}), callback=False).digest != ""


def test_a_sub_folder_output_hashes_only_its_direct_children() -> None:
    entries = {
        "computed.json": computed("/iexec_out/res"),
        "res/2.txt": b"two",
        "res/1.txt": b"one",
        "res/nested/x.txt": b"ignored",
        "other.txt": b"ignored too",
    }
    found = archive_digest(make_zip(entries), callback=False)
    assert found.digest == folder_digest([("res/1.txt", b"one"), ("res/2.txt", b"two")])


def test_folder_entries_in_the_zip_are_accepted() -> None:
    data = make_zip({"res/": b"", "res/a": b"A", "computed.json": computed("/iexec_out/res")})
    assert archive_digest(data, callback=False).digest == folder_digest([("a", b"A")])


def test_an_absent_output_path_reads_as_an_empty_folder() -> None:
    found = archive_digest(make_zip({"computed.json": computed("/iexec_out/empty")}), callback=False)
    assert found.source == "absent"
    assert found.digest == keccak_hex(b"")


def test_a_callback_deal_votes_on_keccak_of_the_callback_data() -> None:
    data = make_zip({"computed.json": computed("/iexec_out/x", **{"callback-data": "0x1234"})})
    assert archive_digest(data, callback=True).digest == callback_digest("0x1234")
    with pytest.raises(InvalidArchive, match="callback-data"):
        archive_digest(make_zip({"computed.json": computed("/iexec_out/x")}), callback=True)


@pytest.mark.parametrize(
    "path, relative",
    [
        ("/iexec_out", ""),
        ("/iexec_out/", ""),
        ("/iexec_out/a.txt", "a.txt"),
        ("/iexec_out/./dir//a.txt", "dir/a.txt"),
    ],
)
def test_output_paths_under_iexec_out(path: str, relative: str) -> None:
    assert output_relative_path(path) == relative


@pytest.mark.parametrize(
    "path", ["", None, "iexec_out/a", "/iexec_outside/a", "/iexec_out/../etc/passwd", "/etc/passwd"]
)
def test_output_paths_outside_iexec_out_are_refused(path: str | None) -> None:
    with pytest.raises(DigestError):
        output_relative_path(path)


@pytest.mark.parametrize(
    "body", [b"", b"not a zip at all", make_zip({"a": b"x"})[:-30]], ids=["empty", "not-a-zip", "truncated-zip"]
)  # fixed ids: the zip holds a date
def test_an_unreadable_body_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidArchive):
        archive_digest(body, callback=False)


def test_a_corrupt_entry_is_refused() -> None:
    data = bytearray(make_zip({"computed.json": computed("/iexec_out/a"), "a": b"A" * 1000}, zipfile.ZIP_STORED))
    position = data.find(b"A" * 100)
    data[position] = ord("B")  # CRC mismatch
    with pytest.raises(InvalidArchive, match="cannot be read"):
        archive_digest(bytes(data), callback=False)


def test_a_zip_without_computed_json_is_refused() -> None:
    with pytest.raises(InvalidArchive, match="computed.json"):
        archive_digest(make_zip({"a.txt": b"A"}), callback=False)


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_an_unreadable_computed_json_is_refused(content: bytes) -> None:
    with pytest.raises(InvalidArchive, match="computed.json"):
        archive_digest(make_zip({"computed.json": content}), callback=False)


@pytest.mark.parametrize("name", ["/etc/passwd", "../evil", "a/../../evil", "a//b", "./a", "C:evil", "a\\b"])
def test_entries_with_path_tricks_are_refused(name: str) -> None:
    with pytest.raises(InvalidArchive):
        archive_digest(make_zip({"computed.json": computed("/iexec_out"), name: b"x"}), callback=False)


def test_symbolic_link_entries_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("computed.json", computed("/iexec_out"))
        link = zipfile.ZipInfo("link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(InvalidArchive, match="symbolic link"):
        archive_digest(buffer.getvalue(), callback=False)


def test_duplicate_entries_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("computed.json", computed("/iexec_out/a"))
        archive.writestr("a", b"1")
        with pytest.warns(UserWarning):
            archive.writestr("a", b"2")
    with pytest.raises(InvalidArchive, match="twice"):
        archive_digest(buffer.getvalue(), callback=False)


def test_a_zip_bomb_is_refused_before_expanding() -> None:
    bomb = make_zip({"computed.json": computed("/iexec_out/big"), "big": b"\0" * (4 * 1024 * 1024)})
    assert len(bomb) < 20_000
    with pytest.raises(InvalidArchive, match="expand"):
        archive_digest(bomb, callback=False, limits=ArchiveLimits(max_uncompressed=1024 * 1024))


def test_a_zip_lying_about_its_sizes_is_refused() -> None:
    # Patch the declared sizes of the entry in both headers to 1 byte: the real content is larger.
    data = bytearray(make_zip({"computed.json": computed("/iexec_out/big"), "big": b"\0" * 100_000}))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("big")
    # Uncompressed size: offset 22 of the local header, offset 24 of the central directory record.
    data[info.header_offset + 22 : info.header_offset + 26] = (1).to_bytes(4, "little")
    central = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)  # the second record is "big"
    data[central + 24 : central + 28] = (1).to_bytes(4, "little")
    with pytest.raises(InvalidArchive):
        archive_digest(bytes(data), callback=False, limits=ArchiveLimits(max_uncompressed=50_000))


def test_too_many_entries_are_refused() -> None:
    entries = {f"f{i}": b"" for i in range(20)}
    with pytest.raises(InvalidArchive, match="entries"):
        archive_digest(
            make_zip({"computed.json": computed("/iexec_out"), **entries}),
            callback=False,
            limits=ArchiveLimits(max_entries=10),
        )


def test_a_path_both_file_and_folder_is_refused() -> None:
    with pytest.raises(InvalidArchive, match="both"):
        archive_digest(make_zip({"computed.json": computed("/iexec_out"), "a": b"1", "a/b": b"2"}), callback=False)
