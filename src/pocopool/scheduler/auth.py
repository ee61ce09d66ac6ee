"""Worker login (spec §7.1, pocopool variant): a hex challenge signed by the wallet, then a JWT.

`GET /workers/challenge` gives `0x` + 64 hex (the same value for 5 minutes); the worker signs
`login_hash(challenge)` raw (no EIP-191 prefix); `POST /workers/login` checks that the signature
recovers to the wallet, consumes the challenge and answers an HS256 JWT valid one hour whose `sub`
is the checksummed wallet. Security times are wall-clock times, whatever clock drives the protocol.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import jwt

from ..protocol.crypto import InvalidHex, normalize_address, recover_login, same_address
from .errors import Unauthorized

CHALLENGE_TTL = 300.0
TOKEN_TTL = 3600
VERIFIED_TOKENS = 10_000  # tokens whose check is remembered (one per worker in use; cleared when full)
AUDIENCE = "pocopool-scheduler"


class Authenticator:
    def __init__(self, secret: bytes | None = None, *, wall_clock: Callable[[], float] = time.time) -> None:
        self._secret = secret or secrets.token_bytes(64)
        self._now = wall_clock
        self._challenges: dict[str, tuple[str, float]] = {}
        # token -> (wallet, expiry): a token checked once is not decoded again on every request.
        self._verified: dict[str, tuple[str, float]] = {}

    def challenge(self, wallet: str) -> str:
        """The wallet's current challenge; a new one once the previous is 5 minutes old or used."""
        now = self._now()
        self._forget_expired(now)
        key = wallet.lower()
        current = self._challenges.get(key)
        if current is None:
            current = self._challenges[key] = ("0x" + secrets.token_hex(32), now)
        return current[0]

    def _forget_expired(self, now: float) -> None:
        expired = [key for key, (_, created) in self._challenges.items() if now - created >= CHALLENGE_TTL]
        for key in expired:
            del self._challenges[key]

    def login(self, wallet: str, signature: str) -> str:
        """A token for the wallet if `signature` signs its current challenge; Unauthorized otherwise."""
        now = self._now()
        self._forget_expired(now)
        key = wallet.lower()
        current = self._challenges.get(key)
        if current is None:
            raise Unauthorized(f"no challenge is pending for wallet {wallet}: ask GET /workers/challenge first")
        signer = recover_login(current[0], signature)
        if not same_address(signer, wallet):
            raise Unauthorized(f"the signature does not sign the challenge of wallet {wallet}")
        del self._challenges[key]
        issued = int(now)
        claims = {"sub": normalize_address(wallet), "iat": issued, "exp": issued + TOKEN_TTL, "aud": AUDIENCE}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, authorization: str | None) -> str:
        """The checksummed wallet of an `Authorization: Bearer <jwt>` header; Unauthorized otherwise."""
        if not authorization:
            raise Unauthorized("missing Authorization header: log in at POST /workers/login and send 'Bearer <token>'")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:  # the real time, as jwt.decode checks it
            return known[0]
        wallet, expiry = self._decode(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[token] = (wallet, expiry)
        return wallet

    def _decode(self, token: str) -> tuple[str, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["sub", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token expired: log in again") from None
        except jwt.PyJWTError:
            raise Unauthorized("the token is not valid: log in again") from None
        try:
            return normalize_address(str(claims["sub"])), float(claims["exp"])
        except InvalidHex:
            raise Unauthorized("the token does not name a wallet") from None
