"""What the simulated platform measures for pre- and post-compute: the enclave program's own source,
the files of this package that make the stage's program (decision 102: the platform measures what it
owns, never another package's files).

The SMS computes the same value to decide whether a quote is from the program it expects, as a real
SMS pins the MRENCLAVE of the iExec pre/post-compute images.
"""

from __future__ import annotations

import os
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


def folder_fingerprint(root: Path) -> str:
    """The measurement of an app bundle on disk: `bundle_fingerprint` of its regular files (links are
    not followed, as a tar of the bundle keeps only its regular files)."""
    files = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in filenames:
            path = Path(directory) / filename
            if path.is_file() and not path.is_symlink():
                files.append((path.relative_to(root).as_posix(), path.read_bytes()))
    return bundle_fingerprint(files)
