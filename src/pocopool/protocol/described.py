"""The base of every enum of protocol/ whose members carry a one-line description (statuses, causes,
chain statuses): one place for how a member is made, ordered and printed."""

from __future__ import annotations

from enum import Enum


class Described(str, Enum):
    """A string enum whose members carry a one-line description."""

    description: str

    def __new__(cls, value: str, description: str = "") -> Described:
        # The default only lets a lookup by value (`TaskStatus("FAILED")`) type-check: every member
        # is defined with its description.
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    @property
    def ordinal(self) -> int:
        return list(type(self)).index(self)

    def __str__(self) -> str:
        return self.value
