"""A hostile app for the attack suite. Its first argument names the attack; every attack is bounded
by this code itself far below the machine (2,000 processes, 4 GiB, 2 GiB, 120 s), so a worker limit
that does not hold costs a slow test, never the host. What a read attack gets, it prints and puts
in its result: the test checks that nothing secret reached either."""

import json
import os
import socket
import sys
import time

out = os.environ["IEXEC_OUT"]
how = sys.argv[1]
MiB = 2**20


def result(report):
    with open(os.path.join(out, "report.json"), "w") as sink:
        json.dump(report, sink, sort_keys=True)
    with open(os.path.join(out, "computed.json"), "w") as sink:
        json.dump({"deterministic-output-path": f"{out}/report.json"}, sink)


def attempt(report, name, action):
    try:
        got = action()
        report[name] = f"allowed: {got!r}"[:4000]
    except OSError as error:
        report[name] = f"refused: {type(error).__name__}"
    print(f"{name}: {report[name]}")


def read(path):
    with open(path, "rb") as handle:
        return handle.read(4000).decode(errors="replace")


def listing(path):
    found = []
    for root, _, files in os.walk(path):
        for name in files:
            found.append(os.path.join(root, name))
            try:
                found.append(read(os.path.join(root, name)))
            except OSError:
                pass
    if not found and not os.path.isdir(path):
        raise FileNotFoundError(path)
    return found


if how == "read":  # read KEY_FILE OTHER_TASKS_FOLDER SCHEDULER_PORT
    key_file, other_tasks, port = sys.argv[2], sys.argv[3], int(sys.argv[4])
    report = {}
    attempt(report, "worker-key", lambda: read(key_file))
    attempt(report, "other-tasks", lambda: listing(other_tasks))
    attempt(report, "host-environ", lambda: read("/proc/1/environ"))
    attempt(report, "scheduler", lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close())
    result(report)
elif how == "write-outside":
    report = {}
    for target in (
        "/app/planted",
        "/iexec_in/planted",
        "/etc/planted",
        "/usr/planted",
        "/planted",
        os.path.join(out, "..", "planted"),
        "/root/planted",
    ):
        attempt(report, target, lambda target=target: open(target, "w").write("planted"))
    result(report)
elif how == "symlink":  # a result entry pointing at a host file
    os.symlink(sys.argv[2], os.path.join(out, "stolen"))
    os.symlink("/proc/1/environ", os.path.join(out, "environ"))
    result({"links": "made"})
elif how == "fork-bomb":  # stops at its own bound of processes
    bound, made, refused = int(sys.argv[2]), 0, 0
    for _ in range(bound):
        try:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            made += 1
        except OSError:
            refused += 1
    print(f"fork bomb: {made} made, {refused} refused")
    sys.exit(1)
elif how == "memory-bomb":  # stops at its own bound of MiB
    held = []
    for _ in range(int(sys.argv[2]) // 16):
        held.append(b"x" * (16 * MiB))
    print(f"memory bomb survived with {len(held) * 16} MiB")
elif how == "disk-filler":  # FOLDER MIB: stops at its own bound
    folder, bound = sys.argv[2].replace("IEXEC_OUT", out), int(sys.argv[3])
    written = 0
    try:
        with open(os.path.join(folder, "filler.bin"), "wb") as sink:
            while written < bound:
                sink.write(b"x" * MiB)
                written += 1
    finally:
        print(f"disk filler wrote {written} MiB")
elif how == "loop":  # burns CPU for at most its own bound of seconds
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        pass
    print("the loop ended by itself")
else:
    sys.exit(f"unknown attack {how}")
