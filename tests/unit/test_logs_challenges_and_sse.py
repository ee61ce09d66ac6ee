"""Single-use, short-lived logs challenges; the event-stream parser the CLI follows with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocopool.client.follow import StreamEvent, iter_sse
from pocopool.protocol import crypto
from pocopool.scheduler.events import merge_events, parse_cursor
from pocopool.scheduler.logs_access import (
    LogsAccessDenied,
    LogsChallenges,
    parse_authorization,
)

KEY = "0x" + "c3" * 32
ADDRESS = crypto.address_of(KEY)


class Clock:
    now = 1000.0


def challenges(clock: Clock) -> LogsChallenges:
    return LogsChallenges(chain_id=lambda: 65535, now=lambda: clock.now)


def sign(typed: dict, key: str = KEY) -> tuple[str, str]:
    return "0x" + crypto.typed_data_digest(typed).hex(), crypto.sign_typed_data(key, typed)


def test_a_challenge_is_accepted_once():
    book = challenges(Clock())
    typed = book.issue(ADDRESS)
    assert typed["domain"] == {"name": "iExec Core", "version": "1", "chainId": 65535}
    assert not typed["message"]["challenge"].startswith("0x")
    digest, signature = sign(typed)
    book.consume(ADDRESS, digest, signature)
    with pytest.raises(LogsAccessDenied) as refused:
        book.consume(ADDRESS, digest, signature)
    assert refused.value.status == 401


def test_a_challenge_expires_after_its_ttl():
    clock = Clock()
    book = challenges(clock)
    digest, signature = sign(book.issue(ADDRESS))
    clock.now += 60.5
    with pytest.raises(LogsAccessDenied, match="expired"):
        book.consume(ADDRESS, digest, signature)


def test_another_key_cannot_use_the_requesters_challenge_and_does_not_burn_it():
    book = challenges(Clock())
    typed = book.issue(ADDRESS)
    digest, forged = sign(typed, "0x" + "5e" * 32)
    with pytest.raises(LogsAccessDenied, match="signature"):
        book.consume(ADDRESS, digest, forged)
    book.consume(ADDRESS, *sign(typed))  # the requester still can


def test_two_open_challenges_of_one_address_are_independent():
    book = challenges(Clock())
    first, second = book.issue(ADDRESS), book.issue(ADDRESS)
    book.consume(ADDRESS, *sign(second))
    book.consume(ADDRESS, *sign(first))


def test_the_authorization_header_has_exactly_three_parts():
    assert parse_authorization(f"0xab_0xcd_{ADDRESS.lower()}") == ("0xab", "0xcd", ADDRESS)
    for bad in (None, "", "a_b", "a_b_c_d", "0xab_0xcd_notanaddress", "__"):
        with pytest.raises(LogsAccessDenied):
            parse_authorization(bad)


def test_sse_lines_become_events_and_heartbeats_wake_the_reader():
    lines = ["retry: 1000", "", ": heartbeat", "id: 3-7", "event: task", 'data: {"status": "RUNNING"}', "", ""]
    assert list(iter_sse(iter(lines))) == [None, StreamEvent("3-7", "task", {"status": "RUNNING"})]


def test_event_ids_resume_each_history_where_it_stopped():
    assert parse_cursor("12-40") == (12, 40) and parse_cursor("garbage") == (0, 0) and parse_cursor(None) == (0, 0)
    task_rows = [
        {
            "id": 5,
            "task_id": "t",
            "deal_id": "d",
            "status": "RUNNING",
            "date": datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC),
            "cause": None,
            "message": None,
        }
    ]
    replicate_rows = [
        {
            "id": 9,
            "task_id": "t",
            "deal_id": "d",
            "wallet": "w",
            "status": "STARTED",
            "date": datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
            "cause": None,
        }
    ]
    events = merge_events(task_rows, replicate_rows, (4, 8))
    assert [(e[0], e[1]) for e in events] == [("4-9", "replicate"), ("5-9", "task")]
