"""The CLI's refusals that need no devnet: one line on stderr, `error: …`, exit status 2 for the
user's input; nothing is started, bought or written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pocopool.cli.main import app

APP = "0x" + "ab" * 20
TASK = "0x" + "cd" * 32


def pocopool(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), prog_name="pocopool")
    return result.exit_code, result.stdout, result.stderr


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["category", "create", "FAST", "--max-time", "0"], "--max-time: input should be greater than or equal to 1"),
        (["category", "create", "FAST"], "Missing option '--max-time'"),
        (["run", APP, "--tasks", "many"], "--tasks: input should be a valid integer"),
        (["task", "show"], "Missing argument 'ID'"),
        (["task", "shw", TASK], "No such command 'shw'"),
        (["run", APP, "--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_are_one_line_with_where_to_find_help(args: list[str], said: str) -> None:
    code, stdout, stderr = pocopool(*args)
    line = one_line(stderr)
    assert code == 2 and stdout == ""
    assert said in line and line.endswith("--help"), line
    assert "╭" not in stderr and "Usage:" not in stderr


def test_the_usage_line_names_the_command_to_ask_for_help() -> None:
    code, _, stderr = pocopool("category", "create", "FAST", "--max-time", "0")
    assert code == 2
    assert one_line(stderr).endswith("; see pocopool category create --help")


def test_help_and_a_bare_group_still_show_the_help() -> None:
    code, stdout, _ = pocopool("run", "--help")
    assert code == 0 and "--tasks" in stdout
    code, stdout, stderr = pocopool("task")
    assert code == 2 and "show" in stdout + stderr and "error:" not in stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--args", 'unbalanced "quote'], "--args 'unbalanced \"quote' cannot be split shell-style"),
        (["--args", "a\\"], "--args 'a\\\\' cannot be split shell-style"),
        (["--input-file", "ftp://files.example/in.txt"], "--input-file 'ftp://files.example/in.txt' is not an http"),
        (["--input-file", "https:///in.txt"], "--input-file 'https:///in.txt' names no host"),
        (["--trust", "-1"], "--trust must be 0 or more, got -1"),
        (["--tasks", "0"], "--tasks must be between 1 and 10000, got 0"),
        (["--category", "-1"], "--category must be 0 or more, got -1"),
        (["--dataset", "0x12"], "--dataset must be an address"),
        (["--secret", "1=HUSH"], "--secret and --encrypt-result are for confidential tasks: add --tee"),
    ],
)
def test_run_refuses_what_cannot_run_before_opening_the_devnet(args: list[str], said: str, tmp_path: Path) -> None:
    home = tmp_path / "no-devnet"  # never read: the refusal comes first
    code, stdout, stderr = pocopool("run", APP, *args, "--home", str(home))
    line = one_line(stderr)
    assert code == 2 and said in line, line
    assert stdout == "" and not home.exists()


def test_a_folder_given_as_a_dataset_is_called_a_folder(tmp_path: Path) -> None:
    code, _, stderr = pocopool("dataset", "deploy", str(tmp_path), "--home", str(tmp_path / "no-devnet"))
    assert code == 2
    assert one_line(stderr) == f"error: {tmp_path} is a folder: a dataset is one file"


def test_a_missing_dataset_is_still_no_such_file(tmp_path: Path) -> None:
    code, _, stderr = pocopool("dataset", "deploy", str(tmp_path / "corpus.txt"), "--home", str(tmp_path))
    assert code == 2 and one_line(stderr) == f"error: {tmp_path / 'corpus.txt'}: no such file"


def test_a_download_into_a_file_is_refused_before_anything_is_fetched(tmp_path: Path) -> None:
    existing = tmp_path / "result.txt"
    existing.write_text("mine")
    code, _, stderr = pocopool("task", "download", TASK, str(existing), "--home", str(tmp_path / "no-devnet"))
    assert code == 2
    assert one_line(stderr) == f"error: {existing} is a file, not a folder: give a folder for the result"
    assert existing.read_text() == "mine"


def test_an_unknown_worker_fault_is_refused_before_the_devnet_starts(tmp_path: Path) -> None:
    home = tmp_path / "devnet"
    code, _, stderr = pocopool("devnet", "start", "--home", str(home), "--workers", "1", "--fault", "0:bogus")
    line = one_line(stderr)
    assert code == 2 and "--fault 0:bogus: unknown fault 'bogus'; known faults: wrong-result" in line, line
    assert not home.exists()


def test_the_installed_command_says_usage_errors_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pocopool.cli", "category", "create", "FAST", "--max-time", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "error: --max-time: input should be greater than or equal to 1; "
        "see python -m pocopool.cli category create --help\n"
    )
