"""An app's stdout and stderr kept to a limit (protocol/applogs.py): the end, from a line start, after
one marker line that says what was dropped, the limit and the setting that changes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocopool.protocol.applogs import (
    MAX_LOG_BYTES,
    SCHEDULER_SETTING,
    WORKER_SETTING,
    LogCut,
    bounded,
    keep_end,
    parse_cut,
)
from pocopool.protocol.models import ComputeLogs
from pocopool.worker.config import WorkerConfig
from pocopool.worker.runtimes.base import TailBuffer

WORKDIR, KEY = Path("/nonexistent/workdir"), "0x" + "11" * 32


def numbered(count: int) -> bytes:
    """`count` lines of 9 bytes each: "line 0000\n", "line 0001\n"... (10 bytes with the line end)."""
    return b"".join(b"line %04d\n" % i for i in range(count))


def test_a_log_within_the_limit_is_kept_whole_and_has_no_marker():
    assert keep_end(numbered(5), 50, WORKER_SETTING) == numbered(5).decode()
    assert parse_cut(numbered(5).decode()) == (None, numbered(5).decode())


def test_the_end_is_kept_from_a_line_start_and_the_marker_says_what_was_dropped():
    # 100 lines of 10 bytes, a limit of 55: the last 55 bytes start inside "line 0094";
    # the kept text starts at the next line, "line 0095", and holds 5 whole lines.
    text = keep_end(numbered(100), 55, WORKER_SETTING)
    marker, _, body = text.partition("\n")
    assert marker == (
        "[pocopool] log cut: the first 950 bytes (95 lines) were dropped; the last 50 bytes follow, "
        "from a line start (limit 55 bytes per stream, worker option --app-log-kb)"
    )
    assert body == "line 0095\nline 0096\nline 0097\nline 0098\nline 0099\n"


def test_a_cut_that_falls_on_a_line_end_keeps_the_whole_limit():
    text = keep_end(numbered(100), 50, WORKER_SETTING)
    cut, body = parse_cut(text)
    assert cut == LogCut(950, 95, 50, 50, WORKER_SETTING)
    assert body.startswith("line 0095\n")


def test_a_line_longer_than_half_the_limit_is_cut_inside_at_a_character_boundary():
    data = "é".encode() * 1000  # 2 bytes a character, no line end at all
    text = keep_end(data, 101, WORKER_SETTING)
    cut, body = parse_cut(text)
    assert cut is not None and cut.mid_line
    assert "from the middle of a line" in text.partition("\n")[0]
    assert body == "é" * 50  # never half a character: 1 byte more dropped
    assert (cut.dropped_bytes, cut.kept_bytes) == (1900, 100)
    assert cut.dropped_bytes + cut.kept_bytes == len(data)


def test_the_marker_reads_back_as_the_cut_and_its_json():
    cut = LogCut(4_897_600, 51_234, 102_390, 102_400, WORKER_SETTING)
    found, body = parse_cut(cut.marker() + "\nthe rest\n")
    assert found == cut and body == "the rest\n"
    assert cut.wire() == {
        "droppedBytes": 4_897_600,
        "droppedLines": 51_234,
        "keptBytes": 102_390,
        "limitBytes": 102_400,
        "setting": "worker option --app-log-kb",
        "where": "start",
        "midLine": False,
    }


def test_a_first_line_that_only_looks_like_a_marker_is_the_apps_own():
    text = "[pocopool] log cut: nothing of the sort\nmore\n"
    assert parse_cut(text) == (None, text)


def test_the_scheduler_cuts_a_longer_report_again_and_adds_to_the_first_cut():
    stream = b"".join(b"line %07d\n" % i for i in range(200_000))  # 13 bytes a line, 2.6 MB
    worker_cut = keep_end(stream, 2 * MAX_LOG_BYTES, WORKER_SETTING)  # a worker over the scheduler's maximum
    first, _ = parse_cut(worker_cut)
    assert first is not None
    stored = ComputeLogs(stdout=worker_cut, stderr="short\n").tailed()
    second, body = parse_cut(stored.stdout)
    assert second is not None and second.setting == SCHEDULER_SETTING and second.limit_bytes == MAX_LOG_BYTES
    assert second.dropped_bytes + second.kept_bytes == len(stream)  # the whole stream, across both cuts
    assert second.dropped_lines == 200_000 - len(body.splitlines()) and not second.mid_line
    assert body.startswith("line ") and body.endswith("line 0199999\n") and len(body.encode()) == second.kept_bytes
    assert stored.stderr == "short\n"
    assert bounded(stored.stdout) == stored.stdout  # cutting again changes nothing


def test_the_tail_buffer_counts_the_bytes_and_lines_it_dropped():
    buffer = TailBuffer(capacity=1001)
    data = numbered(1000)
    for start in range(0, len(data), 333):  # fed in pieces that split lines
        buffer.feed(data[start : start + 333])
    cut, body = parse_cut(buffer.text(200, WORKER_SETTING))
    assert cut == LogCut(9800, 980, 200, 200, WORKER_SETTING)
    assert body.splitlines()[0] == "line 0980"


@pytest.mark.parametrize("kib", [0, 1025])
def test_the_workers_log_setting_is_bounded(kib):
    with pytest.raises(ValueError, match="--app-log-kb must be from 1 to 1024"):
        WorkerConfig(scheduler_url="http://s", workdir=WORKDIR, private_key=KEY, app_log_kb=kib)


def test_the_workers_log_setting_sets_each_runs_log_limit():
    assert (
        WorkerConfig(scheduler_url="http://s", workdir=WORKDIR, private_key=KEY, app_log_kb=3).app_limits(10).log_bytes
        == 3 * 1024
    )
    assert (
        WorkerConfig(scheduler_url="http://s", workdir=WORKDIR, private_key=KEY).app_limits(10).log_bytes == 100 * 1024
    )
