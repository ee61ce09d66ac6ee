"""The requester's side of the SMS: push a secret signed by its owner, ask whether one exists.

Values go to the SMS only (`PUT /secrets/{kind}/{address}/{name}`, docs/tee.md); nothing here ever
prints, logs or returns a value. Errors are one line naming the secret, never its value.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ..protocol import crypto
from ..protocol.http import error_message
from ..protocol.tee import (
    APP_SECRET_NAME,
    DATASET_KEY_NAME,
    RESULT_ENCRYPTION_KEY,
    SecretKind,
    sign_secret_push,
)
from .errors import BadInput, ClientError, ServiceUnavailable


@dataclass
class SmsClient:
    url: str
    private_key: str  # the signer's: the owner of what is pushed
    timeout: float = 15.0

    @property
    def address(self) -> str:
        return crypto.address_of(self.private_key)

    def _path(self, kind: SecretKind, address: str, name: str) -> str:
        return f"{self.url.rstrip('/')}/secrets/{kind.value}/{crypto.normalize_address(address)}/{name}"

    def push(self, kind: SecretKind, address: str, name: str, value: str) -> bool:
        """Store or replace a secret; True if it was new."""
        address = crypto.normalize_address(address)
        signature = sign_secret_push(self.private_key, kind, address, name, value)
        try:
            answer = httpx.put(
                self._path(kind, address, name),
                content=value.encode(),
                headers={"Authorization": signature},
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"the SMS at {self.url} did not answer: {type(error).__name__}") from None
        if answer.status_code not in (200, 201):
            raise ClientError(
                f"the SMS refused the {kind.value} secret {name!r} of {address} "
                f"({answer.status_code}): {error_message(answer)}"
            )
        return answer.status_code == 201

    def exists(self, kind: SecretKind, address: str, name: str) -> bool:
        try:
            answer = httpx.head(self._path(kind, address, name), timeout=self.timeout)
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"the SMS at {self.url} did not answer: {type(error).__name__}") from None
        if answer.status_code not in (200, 404):
            raise ClientError(
                f"the SMS could not say whether {kind.value}/{address}/{name} exists ({answer.status_code})"
            )
        return answer.status_code == 200

    # ----- the pushes a requester, an owner or a beneficiary makes ----------------------------
    def push_dataset_key(self, dataset: str, key_b64: str) -> bool:
        return self.push(SecretKind.DATASET, dataset, DATASET_KEY_NAME, key_b64)

    def push_app_secret(self, app: str, value: str) -> bool:
        return self.push(SecretKind.APP, app, APP_SECRET_NAME, value)

    def push_requester_secret(self, name: str, value: str) -> bool:
        return self.push(SecretKind.REQUESTER, self.address, name, value)

    def push_result_key(self, public_key_b64: str) -> bool:
        return self.push(SecretKind.WEB2, self.address, RESULT_ENCRYPTION_KEY, public_key_b64)

    def has_result_key(self, beneficiary: str) -> bool:
        return self.exists(SecretKind.WEB2, beneficiary, RESULT_ENCRYPTION_KEY)


def parse_secret_options(options: list[str]) -> dict[str, str]:
    """`--secret N=VALUE` options → {N: VALUE}; N a positive integer, each once. The error never
    repeats the value."""
    values: dict[str, str] = {}
    for option in options:
        index, sep, value = option.partition("=")
        if not sep or not index.isdigit() or int(index) < 1 or index != str(int(index)):
            raise BadInput(
                f"--secret wants N=VALUE with N a positive integer (1, 2, …), got {index!r}{'=…' if sep else ''}"
            )
        if not value:
            raise BadInput(f"--secret {index}= has an empty value")
        if index in values:
            raise BadInput(f"--secret {index} is given twice")
        values[index] = value
    return values
