"""The tee-sim app loader (simulated enclave): the first program of the app's sandbox.

It measures the app bundle it is about to run (`/app`), attests with that measurement, receives the
app's secrets (the developer secret and the requester secrets, as the reference's environment
variables) sealed to its own key, closes the platform key and the SMS connection, and then replaces
itself with the app (`exec`), which finds its secrets in its environment. If the SMS refuses it — a
bundle that is not the one pinned on chain, a platform it does not trust — the app never starts:
the loader writes `loader.json` with the reason and exits 1.

Run by the worker as `python -m pocopool.teesim.loader -- ARGV…` (docs/tee.md).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..protocol.enclave import ENV_REPORT_DIR, LOADER_REPORT, WORKER_ENV
from ..protocol.tee import Stage
from .enclave import NotProvisioned, provision, say
from .measurements import folder_fingerprint


def _refuse(message: str) -> None:
    say(Stage.APP, message)
    folder = Path(os.environ.get(ENV_REPORT_DIR, "."))
    (folder / LOADER_REPORT).write_text(json.dumps({"error": message}))
    sys.exit(1)


def main(argv: list[str]) -> None:
    if argv[:1] != ["--"] or len(argv) < 2:
        _refuse("usage: python -m pocopool.teesim.loader -- ARGV…")
    app = argv[1:]
    try:
        measurement = folder_fingerprint(Path.cwd())
        secrets = provision(Stage.APP, measurement)
    except (NotProvisioned, OSError) as error:
        _refuse(f"the app enclave was not provisioned: {error}")
    env = {key: value for key, value in os.environ.items() if key not in WORKER_ENV}
    say(Stage.APP, f"bundle measured {measurement[:16]}…, {len(secrets)} secret(s) provisioned; starting the app")
    try:
        os.execvpe(app[0], app, {**env, **secrets})
    except OSError as error:
        say(Stage.APP, f"cannot execute {app[0]!r}: {error}")
        sys.exit(127)


if __name__ == "__main__":
    main(sys.argv[1:])
