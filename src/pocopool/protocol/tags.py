"""The deal tag bitmap (spec/poco.md §14)."""

from __future__ import annotations

from enum import Enum

TEE_BIT = 0x01
GPU_BIT = 0x100
TAG_ALL_TEE_FRAMEWORKS = 0x0F
NO_TAG = "0x" + "00" * 32


class TeeFramework(str, Enum):
    SCONE = "SCONE"
    GRAMINE = "GRAMINE"
    TDX = "TDX"


_FRAMEWORK_NIBBLES = {0b0011: TeeFramework.SCONE, 0b0101: TeeFramework.GRAMINE, 0b1001: TeeFramework.TDX}


def tag_to_int(tag: str) -> int:
    return int(tag, 16)


def int_to_tag(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def tee_framework(tag: str) -> TeeFramework | None:
    """The TEE framework a tag asks for, from its low nibble; None for a standard task."""
    return _FRAMEWORK_NIBBLES.get(tag_to_int(tag) & 0x0F)


def is_tee(tag: str) -> bool:
    return tee_framework(tag) is not None


def requires_gpu(tag: str) -> bool:
    return bool(tag_to_int(tag) & GPU_BIT)
