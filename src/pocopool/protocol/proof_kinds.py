"""What a proof of a status or a cause is (the registry of proof, proofs.py and task_proofs.py):
`Proven(test)` names the test that provokes it for real and asserts it; `Unreachable(reason)` says
why pocopool never meets it. There is no third kind: a new status or cause is placed in one of the
two before it lands (tests/unit/test_proofs.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Proven:
    test: str


@dataclass(frozen=True)
class Unreachable:
    reason: str


Proof = Proven | Unreachable
