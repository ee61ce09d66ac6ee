"""The example apps, run as the sandbox runs them: /usr/bin/python3 app.py with IEXEC_* variables."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[3] / "examples" / "apps"
PYTHON = "/usr/bin/python3"


def run_app(
    name: str, tmp_path: Path, args: tuple[str, ...] | list[str] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    iexec_in, iexec_out = tmp_path / "iexec_in", tmp_path / "iexec_out"
    iexec_in.mkdir(exist_ok=True)
    iexec_out.mkdir(exist_ok=True)
    full_env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
        "IEXEC_IN": str(iexec_in),
        "IEXEC_OUT": str(iexec_out),
        "IEXEC_TASK_ID": "0x" + "ab" * 32,
        "IEXEC_DATASET_ADDRESS": "0x" + "00" * 20,
        "IEXEC_DATASET_FILENAME": "0x" + "00" * 20,
        "IEXEC_INPUT_FILES_NUMBER": "0",
        **(env or {}),
    }
    return subprocess.run(
        [PYTHON, "app.py", *args], cwd=APPS / name, env=full_env, capture_output=True, text=True, timeout=30
    )


def deterministic_output(tmp_path: Path) -> Path:
    """The file computed.json designates, with the sandbox's /iexec_out mapped to IEXEC_OUT."""
    computed = json.loads((tmp_path / "iexec_out" / "computed.json").read_text())
    path = computed["deterministic-output-path"]
    assert path.startswith("/iexec_out/")
    return tmp_path / "iexec_out" / path[len("/iexec_out/") :]


@pytest.mark.parametrize("name", ["hello", "wordcount"])
def test_bundle_manifest_runs_python3_app_py(name: str) -> None:
    manifest = json.loads((APPS / name / "app.json").read_text())
    assert manifest == {"name": name, "entrypoint": ["python3", "app.py"]}
    assert (APPS / name / "README.md").is_file()


def test_hello_greets_the_world_without_arguments(tmp_path: Path) -> None:
    done = run_app("hello", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Hello, World!" in done.stdout
    output = deterministic_output(tmp_path)
    assert output == tmp_path / "iexec_out" / "greeting.txt"
    assert output.read_bytes() == b"Hello, World!\n"


def test_hello_greets_its_arguments_joined_by_spaces(tmp_path: Path) -> None:
    done = run_app("hello", tmp_path, ["Alice", "Bob"])
    assert done.returncode == 0, done.stderr
    assert deterministic_output(tmp_path).read_text() == "Hello, Alice Bob!\n"


def test_wordcount_counts_the_dataset(tmp_path: Path) -> None:
    dataset = "0x" + "12" * 20
    (tmp_path / "iexec_in").mkdir()
    (tmp_path / "iexec_in" / dataset).write_bytes(b"one two  three\nfour\n\nfive")
    done = run_app("wordcount", tmp_path, env={"IEXEC_DATASET_FILENAME": dataset, "IEXEC_DATASET_ADDRESS": dataset})
    assert done.returncode == 0, done.stderr
    output = deterministic_output(tmp_path)
    assert output == tmp_path / "iexec_out" / "result.json"
    text = output.read_text()
    assert text.endswith("}\n")
    assert json.loads(text) == {"files": [{"lines": 4, "name": dataset, "words": 5}], "lines": 4, "words": 5}
    assert text == json.dumps(json.loads(text), sort_keys=True) + "\n"


def test_wordcount_adds_the_input_files_after_the_dataset(tmp_path: Path) -> None:
    (tmp_path / "iexec_in").mkdir()
    (tmp_path / "iexec_in" / "data.txt").write_text("a b c\n")
    (tmp_path / "iexec_in" / "0xaa").write_text("d e\nf\n")
    (tmp_path / "iexec_in" / "0xbb").write_text("")
    done = run_app(
        "wordcount",
        tmp_path,
        env={
            "IEXEC_DATASET_FILENAME": "data.txt",
            "IEXEC_INPUT_FILES_NUMBER": "2",
            "IEXEC_INPUT_FILES_FOLDER": str(tmp_path / "iexec_in"),
            "IEXEC_INPUT_FILE_NAME_1": "0xaa",
            "IEXEC_INPUT_FILE_NAME_2": "0xbb",
        },
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(deterministic_output(tmp_path).read_text())
    assert result == {
        "files": [
            {"lines": 1, "name": "data.txt", "words": 3},
            {"lines": 2, "name": "0xaa", "words": 3},
            {"lines": 0, "name": "0xbb", "words": 0},
        ],
        "lines": 3,
        "words": 6,
    }


def test_wordcount_counts_input_files_without_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "iexec_in").mkdir()
    (tmp_path / "iexec_in" / "0xaa").write_text("x y z\n")
    done = run_app("wordcount", tmp_path, env={"IEXEC_INPUT_FILES_NUMBER": "1", "IEXEC_INPUT_FILE_NAME_1": "0xaa"})
    assert done.returncode == 0, done.stderr
    assert json.loads(deterministic_output(tmp_path).read_text())["words"] == 3


def test_wordcount_without_dataset_or_input_file_fails(tmp_path: Path) -> None:
    done = run_app("wordcount", tmp_path)
    assert done.returncode == 1
    assert "no dataset and no input file" in done.stderr
    assert not (tmp_path / "iexec_out" / "result.json").exists()
