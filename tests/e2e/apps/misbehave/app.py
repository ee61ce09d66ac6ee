"""A test app that fails on purpose, the way real apps do. Its first argument says how."""

import json
import os
import sys
import time

out = os.environ["IEXEC_OUT"]
how = sys.argv[1] if len(sys.argv) > 1 else "ok"


def write(name, text, computed=True):
    with open(os.path.join(out, name), "w") as sink:
        sink.write(text)
    if computed:
        with open(os.path.join(out, "computed.json"), "w") as sink:
            json.dump({"deterministic-output-path": f"/iexec_out/{name}"}, sink)


if how == "ok":
    write("out.txt", "fine\n")
elif how == "exit":  # crashes before writing anything
    print("misbehave: something went badly wrong", file=sys.stderr)
    sys.exit(int(sys.argv[2]))
elif how == "exit-with-result":  # writes a result, then exits in error
    write("out.txt", "partial\n")
    print("misbehave: failed after writing a partial result", file=sys.stderr)
    sys.exit(int(sys.argv[2]))
elif how == "sleep":
    time.sleep(float(sys.argv[2]))
    write("out.txt", "late\n")
elif how == "long-name":
    write("a-result-file-name-longer-than-31-characters.txt", "x\n")
elif how == "long-names":  # three result files whose names are too long, and one that is fine
    for name in ("first-result-file-with-a-long-name.txt", "second-result-file-with-a-long-name.txt"):
        write(name, "x\n", computed=False)
    write("third-result-file-with-a-long-name.txt", "x\n")
    write("short.txt", "x\n", computed=False)
elif how == "bad-path":  # computed.json names an output the app never wrote
    with open(os.path.join(out, "computed.json"), "w") as sink:
        json.dump({"deterministic-output-path": "/iexec_out/missing.txt"}, sink)
elif how == "no-computed":
    write("out.txt", "no computed.json\n", computed=False)
elif how == "clock":  # not deterministic: the time (in ns) in one file, a constant in the other
    write("time.txt", f"{time.time_ns()}\n", computed=False)
    write("constant.txt", "the same on every run\n", computed=False)
    with open(os.path.join(out, "computed.json"), "w") as sink:
        json.dump({"deterministic-output-path": "/iexec_out"}, sink)
elif how == "long-callback":  # callback data of that many bytes: more than an EVM ledger takes (4096)
    with open(os.path.join(out, "computed.json"), "w") as sink:
        json.dump({"callback-data": "0x" + "ab" * int(sys.argv[2])}, sink)
else:
    sys.exit(f"unknown behaviour {how!r}")
