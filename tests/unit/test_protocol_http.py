"""The error body every service refuses with, read one way by every client (protocol/http.py)."""

from __future__ import annotations

import json

import httpx

from pocopool.protocol.http import error_body, error_message


def test_a_refusal_is_its_error_sentence() -> None:
    answer = httpx.Response(409, json={"error": "task 0x12 is already stored", "code": "CONFLICT", "rule": "x"})
    assert error_message(answer) == "task 0x12 is already stored"
    assert error_body(answer).code == "CONFLICT"


def test_an_sms_refusal_has_a_code_and_a_sentence() -> None:
    raw = json.dumps({"error": "task 0x12 is not on chain", "code": "UNKNOWN_TASK"}).encode()
    found = error_body(raw)
    assert (found.code, found.error) == ("UNKNOWN_TASK", "task 0x12 is not on chain")
    assert error_message(raw) == "task 0x12 is not on chain"


def test_a_body_without_a_code_has_none() -> None:
    assert error_body(httpx.Response(502, json={"error": "bad gateway"})).code is None


def test_a_body_that_is_not_a_json_object_is_shown_on_one_line_cut_to_the_limit() -> None:
    assert error_message("<html>\n  <h1>502 Bad Gateway</h1>\n</html>\n") == "<html> <h1>502 Bad Gateway</h1> </html>"
    assert error_message("[1, 2]") == "[1, 2]"
    assert error_message("x" * 500, limit=10) == "x" * 10
    assert error_body(b"").error is None
