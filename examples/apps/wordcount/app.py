"""wordcount: counts the words and lines of the task's dataset and input files.

Writes $IEXEC_OUT/result.json = {"files": [...], "lines": L, "words": N} (sorted keys, trailing
newline). Standard-library Python only: it runs under /usr/bin/python3 in a sandbox with no network.
"""

import json
import os
import sys
from typing import Mapping

ZERO_ADDRESS = "0x" + "0" * 40


def input_paths(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name, path) of the dataset file, then of each input file in order."""
    iexec_in = env.get("IEXEC_IN", "/iexec_in")
    paths = []
    dataset = env.get("IEXEC_DATASET_FILENAME", "")
    if dataset and dataset.lower() != ZERO_ADDRESS:
        paths.append((dataset, os.path.join(iexec_in, dataset)))
    folder = env.get("IEXEC_INPUT_FILES_FOLDER", iexec_in)
    count = int(env.get("IEXEC_INPUT_FILES_NUMBER", "0") or "0")
    for index in range(1, count + 1):
        name = env[f"IEXEC_INPUT_FILE_NAME_{index}"]
        paths.append((name, os.path.join(folder, name)))
    return paths


def count(data: bytes) -> tuple[int, int]:
    """(words, lines): words are separated by ASCII whitespace; a last unterminated line counts."""
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return len(data.split()), lines


def main(argv: list[str]) -> int:
    paths = input_paths(os.environ)
    if not paths:
        print("wordcount: no dataset and no input file: nothing to count", file=sys.stderr)
        return 1
    files = []
    for name, path in paths:
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError as error:
            print(f"wordcount: cannot read {name}: {error.strerror}", file=sys.stderr)
            return 1
        words, lines = count(data)
        files.append({"name": name, "words": words, "lines": lines})
    result = {
        "files": files,
        "lines": sum(entry["lines"] for entry in files),
        "words": sum(entry["words"] for entry in files),
    }
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    with open(os.path.join(out, "result.json"), "w", encoding="utf-8") as file:
        file.write(json.dumps(result, sort_keys=True) + "\n")
    # The path is the one inside the sandbox, where the output folder is mounted at /iexec_out.
    with open(os.path.join(out, "computed.json"), "w", encoding="utf-8") as file:
        json.dump({"deterministic-output-path": "/iexec_out/result.json"}, file)
    print(f"wordcount: {result['words']} words, {result['lines']} lines in {len(files)} file(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
