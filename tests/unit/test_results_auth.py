"""The result store's signatures, as a client builds them and as the store reads them."""

from __future__ import annotations

from pocopool.protocol.crypto import address_of, new_private_key, sha256_hex
from pocopool.results import auth

TASK = "0x" + "ab" * 32


def test_upload_headers_carry_the_worker_and_both_signatures() -> None:
    scheduler_key, worker_key = new_private_key(), new_private_key()
    worker = address_of(worker_key)
    authorization = auth.sign_upload_authorization(scheduler_key, worker, TASK)
    headers = auth.upload_headers(worker_key, worker, TASK, b"zip bytes", authorization)
    assert headers[auth.WORKER_HEADER] == worker
    authorizer = auth.upload_authorization_signer(worker, TASK, headers[auth.UPLOAD_AUTHORIZATION_HEADER])
    assert authorizer == address_of(scheduler_key)
    assert auth.upload_body_signer(TASK, sha256_hex(b"zip bytes"), headers[auth.WORKER_SIGNATURE_HEADER]) == worker


def test_an_upload_signature_is_bound_to_the_body_and_the_task() -> None:
    worker_key = new_private_key()
    worker = address_of(worker_key)
    headers = auth.upload_headers(worker_key, worker, TASK, b"zip bytes", "0x")
    signature = headers[auth.WORKER_SIGNATURE_HEADER]
    assert auth.upload_body_signer(TASK, sha256_hex(b"other bytes"), signature) != worker
    assert auth.upload_body_signer("0x" + "cd" * 32, sha256_hex(b"zip bytes"), signature) != worker


def test_an_upload_authorization_is_bound_to_the_worker() -> None:
    scheduler_key = new_private_key()
    worker, other = address_of(new_private_key()), address_of(new_private_key())
    authorization = auth.sign_upload_authorization(scheduler_key, worker, TASK)
    assert auth.upload_authorization_signer(other, TASK, authorization) != address_of(scheduler_key)


def test_download_headers_recover_to_the_beneficiary_for_that_time_only() -> None:
    key = new_private_key()
    headers = auth.download_headers(key, TASK, 1_700_000_000)
    assert headers[auth.DOWNLOAD_TIMESTAMP_HEADER] == "1700000000"
    signature = headers[auth.DOWNLOAD_SIGNATURE_HEADER]
    assert auth.download_signer(TASK, 1_700_000_000, signature) == address_of(key)
    assert auth.download_signer(TASK, 1_700_000_001, signature) != address_of(key)


def test_malformed_signatures_recover_nobody() -> None:
    assert auth.download_signer(TASK, 1, "0x1234") is None
    assert auth.upload_body_signer(TASK, sha256_hex(b""), "0x" + "00" * 65) is None


def test_a_download_timestamp_is_fresh_for_five_minutes_either_side() -> None:
    assert auth.timestamp_is_fresh(1000, 1000 + 300)
    assert auth.timestamp_is_fresh(1000, 1000 - 300)
    assert not auth.timestamp_is_fresh(1000, 1000 + 301)
    assert not auth.timestamp_is_fresh(1000, 1000 - 301)
