"""What the simulated platform measures for pre- and post-compute: the enclave program's own source.

The SMS computes the same value to decide whether a quote is from the program it expects, as a real
SMS pins the MRENCLAVE of the iExec pre/post-compute images.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ..protocol.tee import Stage, bundle_fingerprint

_HERE = Path(__file__).resolve().parent
PROGRAMS: dict[Stage, tuple[str, ...]] = {
    Stage.PRE: ("enclave.py", "precompute.py"),
    Stage.POST: ("enclave.py", "postcompute.py"),
}


@cache
def program_measurement(stage: Stage | str) -> str:
    """64 hex: the fingerprint of the stage's program files (pre-compute or post-compute)."""
    files = PROGRAMS[Stage(stage)]
    return bundle_fingerprint([(name, (_HERE / name).read_bytes()) for name in files])
