"""tee-sim as the worker's enclave platform (`worker/tee/platform.py` `EnclavePlatform`, satisfied
structurally: this package never imports the worker, decision 102).

Each stage is a Python program of this package, run with the worker's interpreter in the worker's
sandbox; that sandbox needs the interpreter, the environment's packages and pocopool's source.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pocopool

from ..protocol.tee import SIMULATION_LABEL, Stage
from .measurements import folder_fingerprint

_HERE = Path(__file__).resolve().parent
_SOURCE_ROOT = Path(pocopool.__file__).resolve().parent.parent
# `-I` keeps the enclave's interpreter away from the environment (PYTHONPATH, user site), so it is told
# where this pocopool's source is: the folder `read_only_folders` binds, whatever the interpreter's
# site-packages point to (a source tree run with PYTHONPATH, or another checkout's editable install).
_BOOT = "import runpy, sys; sys.argv = sys.argv[1:]; sys.path.insert(0, {root!r}); runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
MODULES = {
    Stage.PRE: "pocopool.teesim.precompute",
    Stage.APP: "pocopool.teesim.loader",
    Stage.POST: "pocopool.teesim.postcompute",
}


class TeeSim:
    """The simulated platform (no SGX/TDX hardware): programs and bundle measurement."""

    name = "tee-sim"
    label = SIMULATION_LABEL

    def command(self, stage: Stage, app_argv: Sequence[str] = ()) -> tuple[str, ...]:
        argv = (sys.executable, "-I", "-c", _BOOT.format(root=str(_SOURCE_ROOT)), MODULES[stage])
        return (*argv, "--", *app_argv) if stage == Stage.APP else argv

    def program_folder(self) -> Path:
        return _HERE

    def read_only_folders(self) -> tuple[Path, ...]:
        roots = {
            Path(sys.base_prefix).resolve(),
            Path(sys.prefix).resolve(),
            _SOURCE_ROOT,
        }
        return tuple(sorted(roots))

    def measure_bundle(self, root: Path) -> str:
        return folder_fingerprint(root)
