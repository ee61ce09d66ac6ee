"""The enclave platform the worker starts a TEE replicate's three enclaves on (docs/tee.md "Flows").

The worker defines this interface and never imports a platform: the worker's entry point loads one
by name (`--tee-platform`, `load_platform`), and an implementation (tee-sim, `pocopool.teesim`)
satisfies it structurally, without importing the worker (decision 102). What the worker and the
platform's programs exchange at run time — environment variable names, report files, exit codes —
is `protocol.enclave`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from ...protocol.tee import Stage


@runtime_checkable
class EnclavePlatform(Protocol):
    """How to start the programs of one platform; the worker's runtime runs them in its sandboxes."""

    @property
    def name(self) -> str:
        """The platform's short name, as `--tee-platform` spells it (e.g. "tee-sim")."""
        ...

    @property
    def label(self) -> str:
        """How logs and stage messages name the platform (e.g. "tee-sim (SIMULATED)")."""
        ...

    def command(self, stage: Stage, app_argv: Sequence[str] = ()) -> tuple[str, ...]:
        """The argv that starts the stage's enclave program; for the app stage it runs `app_argv`."""
        ...

    def program_folder(self) -> Path:
        """The working directory of the pre- and post-compute programs (the app's is its bundle)."""
        ...

    def read_only_folders(self) -> tuple[Path, ...]:
        """Host folders every enclave sandbox needs, bound read-only at the same path."""
        ...

    def measure_bundle(self, root: Path) -> str:
        """The enclave fingerprint of an app bundle on disk, as the app enclave will measure it."""
        ...


class UnknownPlatform(ValueError):
    """The platform name or `module:attribute` does not name an enclave platform."""


def load_platform(name: str, known: dict[str, str]) -> EnclavePlatform:
    """The platform `name` (a key of `known`, or a `module:attribute`), imported by name: the
    attribute is a platform or a class whose instances are."""
    target = known.get(name, name)
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise UnknownPlatform(
            f"unknown enclave platform {name!r}: use one of {', '.join(sorted(known))} or module:attribute"
        )
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise UnknownPlatform(f"enclave platform {name!r} cannot be loaded from {target}: {error}") from error
    try:
        platform = found() if isinstance(found, type) else found
    except TypeError:
        platform = None
    if not isinstance(platform, EnclavePlatform):
        raise UnknownPlatform(f"{target} is not an enclave platform (label, command, program_folder, ...)")
    return platform
