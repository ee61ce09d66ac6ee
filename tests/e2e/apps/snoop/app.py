"""A nosy app: tries what a sandboxed app must not do and reports each outcome in its result."""

import json
import os
import socket
import sys

key_file, other_task_dir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
report = {}


def attempt(name, action):
    try:
        action()
        report[name] = "allowed"
    except OSError as error:
        report[name] = f"refused: {error}"
    print(f"{name}: {report[name]}", file=sys.stderr)


attempt("read-worker-key", lambda: open(key_file).read())
attempt("list-other-task", lambda: os.listdir(other_task_dir))
attempt("connect-network", lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close())
out = os.environ["IEXEC_OUT"]
with open(os.path.join(out, "report.json"), "w") as sink:
    json.dump(report, sink, sort_keys=True)
with open(os.path.join(out, "computed.json"), "w") as sink:
    json.dump({"deterministic-output-path": "/iexec_out/report.json"}, sink)
