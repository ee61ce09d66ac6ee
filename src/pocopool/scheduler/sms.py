"""The scheduler's two calls to the SMS (docs/tee.md "SMS HTTP API"), made by the updater when the
engine asks for them (`SmsCall.FRAMEWORK`, `SmsCall.ENCLAVE_CHALLENGE`).

Each call answers a `TxOutcome`: `value` on success; `revert_rule`/`revert_message` when the SMS
refused (a 4xx, or an answer that is not what the API promises); `error` when it could not be reached
(transport error, 5xx, 429), which the engine retries. The framework is asked once per process: a
good answer is cached. The scheduler holds no secret of the SMS; it signs its request with the pool
owner's key, and logs no header.
"""

from __future__ import annotations

import httpx

from ..protocol.crypto import InvalidHex, key_hex, normalize_address, sign_personal
from ..protocol.http import error_body
from ..protocol.keys import Wallet
from ..protocol.tee import challenge_request_hash
from .engine import SmsCall, TxOutcome

TIMEOUT = 10.0


def _refusal(response: httpx.Response) -> tuple[str, str]:
    """The SMS's error code and one-line message (docs/contracts.md "Errors": {"error", "code"})."""
    found = error_body(response)
    return found.code or f"HTTP_{response.status_code}", found.sentence()


def _transient(response: httpx.Response) -> bool:
    return response.status_code >= 500 or response.status_code == 429


class SmsClient:
    def __init__(self, url: str, signer: Wallet, timeout: float = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.signer = signer
        self.timeout = timeout
        self._framework: str | None = None

    async def framework(self) -> TxOutcome:
        """`GET /tee/framework`: the framework the SMS serves (cached once answered)."""
        action, url = SmsCall.FRAMEWORK, f"{self.url}/tee/framework"
        if self._framework is not None:
            return TxOutcome(action, value=self._framework, source=self.url)
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.get(url)
        except httpx.HTTPError as error:
            return TxOutcome(action, error=f"GET {url}: {type(error).__name__} {error}".strip(), source=self.url)
        if response.status_code != 200:
            rule, message = _refusal(response)
            if _transient(response):
                return TxOutcome(action, error=f"GET {url}: {response.status_code} {rule}: {message}", source=self.url)
            return TxOutcome(action, revert_rule=rule, revert_message=message, source=self.url)
        try:
            name = response.json()
        except ValueError:
            name = None
        if not isinstance(name, str) or not name:
            return TxOutcome(
                action,
                revert_rule="BAD_ANSWER",
                revert_message=f"GET {url} did not answer a framework name",
                source=self.url,
            )
        self._framework = name.upper()
        return TxOutcome(action, value=self._framework, source=self.url)

    async def enclave_challenge(self, task_id: str) -> TxOutcome:
        """`POST /tee/challenges/{taskId}`, signed by the pool owner: the task's enclave challenge address."""
        action, url = SmsCall.ENCLAVE_CHALLENGE, f"{self.url}/tee/challenges/{task_id}"
        signature = sign_personal(key_hex(self.signer), challenge_request_hash(task_id))
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.post(url, headers={"Authorization": signature})
        except httpx.HTTPError as error:
            return TxOutcome(action, error=f"POST {url}: {type(error).__name__} {error}".strip(), source=self.url)
        if response.status_code not in (200, 201):
            rule, message = _refusal(response)
            if _transient(response):
                return TxOutcome(action, error=f"POST {url}: {response.status_code} {rule}: {message}", source=self.url)
            return TxOutcome(action, revert_rule=rule, revert_message=message, source=self.url)
        try:
            address = normalize_address(str(response.json()["address"]))
        except (ValueError, KeyError, TypeError, InvalidHex):
            return TxOutcome(
                action,
                revert_rule="EMPTY_TEE_CHALLENGE",
                revert_message=f"POST {url} answered no enclave challenge address",
                source=self.url,
            )
        if int(address, 16) == 0:
            return TxOutcome(
                action,
                revert_rule="EMPTY_TEE_CHALLENGE",
                revert_message=f"POST {url} answered the zero address",
                source=self.url,
            )
        return TxOutcome(action, value=address, source=self.url)
