"""tee-probe: a confidential app for the e2e tests. It proves what its enclave received without ever
writing a secret in clear: the sha256 of the requester and developer secrets, and a copy of the
decrypted dataset (the result is encrypted for the beneficiary when the deal asks for it).

Arguments: `callback` to answer with callback data instead of files; `fail` to exit 3; `no-computed`
to leave no computed.json; `unzippable` to leave a result file whose name is not UTF-8 (no zip entry
can be named so).
"""

import hashlib
import json
import os
import sys

out = os.environ["IEXEC_OUT"]
args = sys.argv[1:]


def digest(name: str) -> str:
    value = os.environ.get(name)
    return hashlib.sha256(value.encode()).hexdigest() if value is not None else "absent"


proof = {
    "requesterSecret1": digest("IEXEC_REQUESTER_SECRET_1"),
    "developerSecret": digest("IEXEC_APP_DEVELOPER_SECRET"),
    "datasetKeySeen": "IEXEC_DATASET_KEY" in os.environ,  # pre-compute's secret: never the app's
}
dataset = os.environ.get("IEXEC_DATASET_FILENAME")
if dataset and int(dataset, 16):  # the zero address: no dataset
    with open(os.path.join(os.environ["IEXEC_IN"], dataset), "rb") as handle:
        proof["dataset"] = handle.read().decode()
print("tee-probe: proof written")
if "fail" in args:
    print("tee-probe: failing on purpose", file=sys.stderr)
    sys.exit(3)
if "callback" in args:
    data = "0x" + hashlib.sha256(json.dumps(proof, sort_keys=True).encode()).hexdigest()
    computed = {"callback-data": data}
else:
    with open(os.path.join(out, "proof.json"), "w") as handle:
        json.dump(proof, handle, sort_keys=True)
    computed = {"deterministic-output-path": os.path.join(out, "proof.json")}
if "unzippable" in args:
    with open(os.path.join(os.fsencode(out), b"\xff"), "w") as handle:
        handle.write("a name that is not UTF-8\n")
if "no-computed" not in args:
    with open(os.path.join(out, "computed.json"), "w") as handle:
        json.dump(computed, handle)
