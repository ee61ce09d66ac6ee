"""The benchmark app: writes one small file and its computed.json, nothing else."""

import json
import os

out = os.environ["IEXEC_OUT"]
with open(os.path.join(out, "out.txt"), "w") as sink:
    sink.write("ok\n")
with open(os.path.join(out, "computed.json"), "w") as sink:
    json.dump({"deterministic-output-path": "/iexec_out/out.txt"}, sink)
