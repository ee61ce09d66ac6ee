"""The HTTP contract's shared spellings: header names and the error body.

Every service refuses with one JSON body (docs/contracts.md "Errors", service/errors.py):
`{"error": "<one sentence>", "code": "<NAME>", ...}`. Clients read it with `error_body` /
`error_message`, whichever service answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

# The result store (docs/results.md): a worker's upload, a beneficiary's download, a TEE upload.
WORKER_HEADER = "X-Worker"
WORKER_SIGNATURE_HEADER = "X-Worker-Signature"  # also on a TEE token request (results/tee.py)
UPLOAD_AUTHORIZATION_HEADER = "X-Upload-Authorization"
DOWNLOAD_TIMESTAMP_HEADER = "X-Download-Timestamp"
DOWNLOAD_SIGNATURE_HEADER = "X-Download-Signature"
RESULT_DIGEST_HEADER = "X-Result-Digest"  # the post-compute enclave's TEE upload (docs/tee.md "Result store")
ENCLAVE_SIGNATURE_HEADER = "X-Enclave-Signature"


class _Answer(Protocol):
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class ErrorBody:
    """What a refusal's body says. `error` and `code` are None when the body lacks them (a proxy's
    page, a body cut short)."""

    error: str | None  # the sentence, for people
    code: str | None  # the NAME, for programs (e.g. the SMS's session error)
    text: str  # the raw body, stripped

    def sentence(self, limit: int = 300) -> str:
        """The one line to show: `error`, else the raw body; at most `limit` chars."""
        return " ".join((self.error or self.text).split())[:limit]


def error_body(answer: str | bytes | _Answer) -> ErrorBody:
    """Read a refusal's body (a response with `.text`: httpx's or the worker's SchedulerResponse; or
    its text or bytes); never raises."""
    if isinstance(answer, bytes):
        text = answer.decode(errors="replace")
    elif isinstance(answer, str):
        text = answer
    else:
        text = answer.text
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return ErrorBody(None, None, text.strip())

    def field(name: str) -> str | None:
        value = data.get(name)
        return str(value) if value not in (None, "") else None

    return ErrorBody(field("error"), field("code"), text.strip())


def error_message(answer: str | bytes | _Answer, limit: int = 300) -> str:
    """The one sentence a refusal says (see ErrorBody.sentence)."""
    return error_body(answer).sentence(limit)
