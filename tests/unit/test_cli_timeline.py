"""The terminal timeline's axis labels (cli/timeline.py): each real time said once, none overlapping."""

from __future__ import annotations

from pocopool.cli.timeline import WIDTH, _ticks
from pocopool.protocol.timeline import Axis


def test_two_ticks_at_the_same_tenth_of_a_second_are_labelled_once() -> None:
    warped = Axis((0.0, 0.01, 0.1, 0.2), (0.0, 6.0, 30.0, 59.0), False)
    line = _ticks(warped)
    assert len(line) == WIDTH
    assert line.split() == ["^0.0s", "^0.1s", "^0.2s"]
