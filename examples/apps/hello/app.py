"""hello: greets its arguments (or the World) in $IEXEC_OUT/greeting.txt.

Standard-library Python only: it runs under /usr/bin/python3 in a sandbox with no network.
"""

import json
import os
import sys


def main(argv: list[str]) -> int:
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    name = " ".join(argv) if argv else "World"
    greeting = f"Hello, {name}!\n"
    with open(os.path.join(out, "greeting.txt"), "w", encoding="utf-8") as file:
        file.write(greeting)
    # The path is the one inside the sandbox, where the output folder is mounted at /iexec_out.
    with open(os.path.join(out, "computed.json"), "w", encoding="utf-8") as file:
        json.dump({"deterministic-output-path": "/iexec_out/greeting.txt"}, file)
    task = os.environ.get("IEXEC_TASK_ID", "(no task id)")
    print(f"hello: wrote greeting.txt for task {task}: {greeting.strip()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
