"""How much of an app's stdout and stderr is kept, and the line that says what was cut.

An app may print gigabytes: each stream is kept up to a limit, and what is kept is its END (where an
app says how it ended or failed), from a line start when one is near: the first line end in the
first half of the kept bytes (a longer line is cut inside, at a character boundary). The kept text
then starts with one marker line that says what was dropped (bytes and lines, all before the
marker), how many bytes follow, the limit and what sets it. The marker is part of the text, so it
travels wherever the log goes (the scheduler's store and API, `task debug --logs`, the result's
stdout.txt); `parse_cut` reads it back for the JSON views. A text that was not cut has no marker.

The limits, each per stream:
- the worker's `--app-log-kb` (LOG_OPTION, default RESULT_LOG_BYTES): what it reports to the scheduler;
- RESULT_LOG_BYTES: what the result's stdout.txt and stderr.txt keep. A protocol rule, never a worker
  setting: those files are part of the result digest, on which the workers must agree;
- MAX_LOG_BYTES: the most the scheduler keeps of a reported stream (and the largest --app-log-kb).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

KIB = 1024
RESULT_LOG_BYTES = 100 * KIB
MAX_LOG_BYTES = 1024 * KIB
LOG_OPTION = "--app-log-kb"
WORKER_SETTING = f"worker option {LOG_OPTION}"
RESULT_SETTING = "the result's fixed limit"
SCHEDULER_SETTING = "the scheduler's maximum"
SHOWN_LINES = 200  # of each stream in a terminal (`task debug --logs`; --json has all that was kept)

_MARKER = re.compile(
    r"\[pocopool\] log cut: the first (?P<dropped>[\d,]+) bytes \((?P<lines>[\d,]+) lines?\) were dropped; "
    r"the last (?P<kept>[\d,]+) bytes follow, from (?P<where>a line start|the middle of a line) "
    r"\(limit (?P<limit>[\d,]+) bytes per stream, (?P<setting>[^()\n]+)\)"
)


@dataclass(frozen=True)
class LogCut:
    """What a cut dropped from the start of one stream."""

    dropped_bytes: int
    dropped_lines: int  # line ends among the dropped bytes (a mid-line cut also drops part of a line)
    kept_bytes: int  # the bytes that follow the marker line
    limit_bytes: int
    setting: str  # what sets the limit, e.g. "worker option --app-log-kb"
    mid_line: bool = False  # the kept text starts inside a line (one longer than half the limit)

    def marker(self) -> str:
        """The marker line, without its line end."""
        lines = "line" if self.dropped_lines == 1 else "lines"
        where = "the middle of a line" if self.mid_line else "a line start"
        return (
            f"[pocopool] log cut: the first {self.dropped_bytes:,} bytes ({self.dropped_lines:,} {lines}) were "
            f"dropped; the last {self.kept_bytes:,} bytes follow, from {where} "
            f"(limit {self.limit_bytes:,} bytes per stream, {self.setting})"
        )

    def wire(self) -> dict[str, Any]:
        """The cut as the JSON views spell it."""
        return {
            "droppedBytes": self.dropped_bytes,
            "droppedLines": self.dropped_lines,
            "keptBytes": self.kept_bytes,
            "limitBytes": self.limit_bytes,
            "setting": self.setting,
            "where": "start",
            "midLine": self.mid_line,
        }


def keep_end(data: bytes, limit: int, setting: str, *, earlier_bytes: int = 0, earlier_lines: int = 0) -> str:
    """The text of a stream kept to its last `limit` bytes (and the marker if anything was dropped).

    `data` is the end of the stream; `earlier_bytes` were dropped before it already, holding
    `earlier_lines` line ends (a ring buffer's count, or a previous cut's marker).
    """
    if earlier_bytes == 0 and len(data) <= limit:
        return data.decode("utf-8", errors="replace")
    start = max(len(data) - limit, 0)
    at_line_start = start > 0 and data[start - 1] == 0x0A
    mid_line = False
    if not at_line_start:
        end = data.find(b"\n", start, start + max(limit // 2, 1))
        if end >= 0:
            start = end + 1
        elif start == 0 and earlier_bytes == 0:
            pass  # nothing dropped before `data`: it starts a line
        else:
            mid_line = True
            while start < len(data) and data[start] & 0xC0 == 0x80:  # never inside a UTF-8 character
                start += 1
    cut = LogCut(
        dropped_bytes=earlier_bytes + start,
        dropped_lines=earlier_lines + data.count(b"\n", 0, start),
        kept_bytes=len(data) - start,
        limit_bytes=limit,
        setting=setting,
        mid_line=mid_line,
    )
    return cut.marker() + "\n" + data[start:].decode("utf-8", errors="replace")


def parse_cut(text: str) -> tuple[LogCut | None, str]:
    """The cut a text's marker line says (None without one) and the text after the marker."""
    if not text.startswith("[pocopool] log cut: "):
        return None, text
    first, _, rest = text.partition("\n")
    found = _MARKER.fullmatch(first)
    if found is None:
        return None, text

    def number(name: str) -> int:
        return int(found[name].replace(",", ""))

    cut = LogCut(
        dropped_bytes=number("dropped"),
        dropped_lines=number("lines"),
        kept_bytes=number("kept"),
        limit_bytes=number("limit"),
        setting=found["setting"],
        mid_line=found["where"] != "a line start",
    )
    return cut, rest


def bounded(text: str, limit: int = MAX_LOG_BYTES, setting: str = SCHEDULER_SETTING) -> str:
    """`text` (a log, maybe cut already and starting with its marker) with at most `limit` bytes
    after its marker; a second cut adds to what the first one dropped."""
    earlier, body = parse_cut(text)
    data = body.encode("utf-8", errors="surrogatepass")  # JSON may carry a lone surrogate
    if len(data) <= limit:
        return text
    return keep_end(
        data,
        limit,
        setting,
        earlier_bytes=earlier.dropped_bytes if earlier else 0,
        earlier_lines=earlier.dropped_lines if earlier else 0,
    )


def cut_of(text: str | None) -> dict[str, Any] | None:
    """The JSON view of a text's cut, or None when it was not cut."""
    found, _ = parse_cut(text or "")
    return found.wire() if found else None


def describe_cut(cut: dict[str, Any]) -> str:
    """A cut (as `LogCut.wire()` spells it) in one sentence, for people: the CLI and the dashboard."""
    lines = "line" if cut["droppedLines"] == 1 else "lines"
    where = "the middle of a line" if cut.get("midLine") else "a line start"
    return (
        f"cut: the first {cut['droppedBytes']:,} bytes ({cut['droppedLines']:,} {lines}) were dropped, the last "
        f"{cut['keptBytes']:,} follow from {where} (limit {cut['limitBytes']:,} bytes per stream, {cut['setting']})"
    )
