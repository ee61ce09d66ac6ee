"""Worker login (spec §7.1, pocopool variant): hex challenge for 5 minutes, JWT for one hour."""

from __future__ import annotations

import time

import jwt
import pytest

from pocopool.protocol.crypto import address_of, sign_login
from pocopool.scheduler.auth import TOKEN_TTL, Authenticator
from pocopool.scheduler.errors import Unauthorized

KEY = "0x" + "42" * 32
WALLET = address_of(KEY)


class WallClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_challenge_lives_five_minutes():
    clock = WallClock()
    auth = Authenticator(b"secret", wall_clock=clock)
    first = auth.challenge(WALLET)
    assert first.startswith("0x") and len(first) == 66
    clock.now += 299
    assert auth.challenge(WALLET.lower()) == first
    clock.now += 1
    assert auth.challenge(WALLET) != first


def test_a_signed_challenge_gives_a_token_naming_the_checksummed_wallet():
    auth = Authenticator(b"secret")
    token = auth.login(WALLET.lower(), sign_login(KEY, auth.challenge(WALLET)))
    assert auth.verify(f"Bearer {token}") == WALLET


def test_an_expired_challenge_or_token_is_refused():
    clock = WallClock()
    auth = Authenticator(b"secret", wall_clock=clock)
    challenge = auth.challenge(WALLET)
    clock.now += 301
    with pytest.raises(Unauthorized, match="no challenge"):
        auth.login(WALLET, sign_login(KEY, challenge))
    real = Authenticator(b"secret")  # tokens are checked against the real time
    token = real.login(WALLET, sign_login(KEY, real.challenge(WALLET)))
    assert real.verify(f"Bearer {token}") == WALLET
    old = Authenticator(b"secret", wall_clock=lambda: 1_000_000.0)
    stale = old.login(WALLET, sign_login(KEY, old.challenge(WALLET)))
    with pytest.raises(Unauthorized, match="expired"):
        real.verify(f"Bearer {stale}")


def test_a_token_checked_once_is_remembered_only_until_it_expires():
    auth = Authenticator(b"secret")
    issuer = Authenticator(b"secret", wall_clock=lambda: time.time() - TOKEN_TTL + 2)  # expires in 1 to 2 s
    token = issuer.login(WALLET, sign_login(KEY, issuer.challenge(WALLET)))
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert auth.verify(f"Bearer {token}") == WALLET
    assert auth.verify(f"Bearer  {token} ") == WALLET  # remembered, whatever the spacing
    while time.time() < expiry:
        time.sleep(0.05)
    with pytest.raises(Unauthorized, match="expired"):
        auth.verify(f"Bearer {token}")


def test_a_token_of_another_scheduler_is_refused():
    mine, theirs = Authenticator(b"mine"), Authenticator(b"theirs")
    token = theirs.login(WALLET, sign_login(KEY, theirs.challenge(WALLET)))
    with pytest.raises(Unauthorized, match="not valid"):
        mine.verify(f"Bearer {token}")
