"""Fixtures of the damaged-file tests; the helpers are in damaging.py."""

from __future__ import annotations

import sys

import damaging  # noqa: F401 - puts the scheduler harness on sys.path
import pytest


@pytest.fixture
def python() -> str:
    return sys.executable
