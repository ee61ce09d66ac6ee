"""Secret pushes, challenges and what the SMS keeps at rest, over real HTTP to a real SMS process."""

from __future__ import annotations

import asyncio
import secrets
import stat

from eth_account import Account
from sms_world import Sms

from pocopool.protocol.tee import MAX_SECRET_BYTES, SIM_FRAMEWORK


def test_health_and_framework(sms: Sms) -> None:
    assert sms.http.get("/health").json() == {"status": "ok"}
    assert sms.http.get("/tee/framework").json() == SIM_FRAMEWORK


def test_owners_push_their_secrets_and_replace_them(sms: Sms) -> None:
    w = sms.world
    assert sms.push(w.dataset_owner, "dataset", w.dataset, "key", "a2V5LW9uZQ==").status_code == 201
    assert sms.push(w.dataset_owner, "dataset", w.dataset, "key", "a2V5LXR3bw==").status_code == 200
    assert sms.push(w.app_owner, "app", w.app, "1", "developer-secret").status_code == 201
    requester = Account.create()
    assert sms.push(requester, "requester", requester.address, "api-key", "v").status_code == 201
    assert sms.push(requester, "web2", requester.address, "iexec-result-dropbox-token", "t").status_code == 201
    assert sms.http.head(f"/secrets/requester/{requester.address}/api-key").status_code == 200
    assert sms.http.head(f"/secrets/requester/{requester.address}/other").status_code == 404
    assert sms.http.head(f"/secrets/dataset/{w.dataset.lower()}/key").status_code == 200


def test_a_non_owner_is_refused_and_nothing_changes(sms: Sms) -> None:
    w = sms.world
    someone = Account.create()
    for kind, address, name in (
        ("dataset", w.dataset, "key"),
        ("app", w.app, "1"),
        ("requester", someone.address, "x"),
        ("web2", someone.address, "iexec-result-iexec-ipfs-token"),
    ):
        answer = sms.push(w.stranger, kind, address, name, "stolen-value")
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "FORBIDDEN"
        assert "stolen-value" not in answer.text
    assert sms.http.head(f"/secrets/requester/{someone.address}/x").status_code == 404


def test_a_bad_signature_is_401(sms: Sms) -> None:
    requester = Account.create()
    answer = sms.push(requester, "requester", requester.address, "s", "the-value", signed_value="another-value")
    assert answer.status_code == 403  # a valid signature of something else recovers to another address
    unsigned = sms.http.put(f"/secrets/requester/{requester.address}/s", content=b"the-value")
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "UNAUTHORIZED"
    garbage = sms.http.put(
        f"/secrets/requester/{requester.address}/s", content=b"the-value", headers={"Authorization": "0x1234"}
    )
    assert garbage.status_code == 401
    assert sms.http.head(f"/secrets/requester/{requester.address}/s").status_code == 404


def test_bad_paths_and_values_are_refused_in_one_line(sms: Sms) -> None:
    w = sms.world
    requester = Account.create()
    cases = [
        (sms.push(w.dataset_owner, "dataset", w.dataset, "not-key", "v"), 400),
        (sms.push(w.app_owner, "app", w.app, "2", "v"), 400),
        (sms.push(requester, "web2", requester.address, "my-token", "v"), 400),
        (sms.push(requester, "requester", requester.address, "bad name!", "v"), 400),
        (sms.http.put("/secrets/wallet/0x" + "00" * 20 + "/x", content=b"v"), 400),
        (sms.http.put("/secrets/requester/0x12/x", content=b"v"), 400),
        (sms.push(requester, "requester", requester.address, "big", "x" * (MAX_SECRET_BYTES + 1)), 413),
        (sms.push(w.dataset_owner, "dataset", requester.address, "key", "v"), 404),  # not a dataset
    ]
    for answer, status in cases:
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert set(body) == {"error", "code"} and "\n" not in body["error"]


def test_values_are_encrypted_at_rest_under_a_private_master_key(sms: Sms) -> None:
    requester = Account.create()
    plaintext = f"plaintext-{secrets.token_hex(8)}"
    assert sms.push(requester, "requester", requester.address, "hidden", plaintext).status_code == 201
    key_file = sms.home / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 32
    if sms.db_url.startswith("sqlite"):
        stored = b"".join(path.read_bytes() for path in sms.home.glob("sms.db*"))
        assert requester.address.lower().encode() in stored  # the row is there...
    else:
        stored = asyncio.run(_pg_dump(sms.db_url))
        assert requester.address.lower().encode() in stored
    assert plaintext.encode() not in stored  # ...its value is not
    assert plaintext not in sms.log_path.read_text()


async def _pg_dump(url: str) -> bytes:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT kind, address, name, ciphertext FROM secrets")
    finally:
        await connection.close()
    return b"".join(r["kind"].encode() + r["address"].encode() + r["name"].encode() + r["ciphertext"] for r in rows)


def test_the_challenge_is_the_same_on_every_call_and_only_for_the_pool_owner(sms: Sms) -> None:
    task = sms.world.task()
    first = sms.challenge(task)
    assert first.status_code == 200, first.text
    assert sms.challenge(task).json() == first.json()
    assert first.json()["address"].startswith("0x") and len(first.json()["address"]) == 42
    other = sms.challenge(sms.world.task()).json()["address"]
    assert other != first.json()["address"]
    refused = sms.challenge(task, signer=sms.world.stranger)
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert sms.challenge("0x" + "ab" * 32).status_code == 404
    assert sms.http.post(f"/tee/challenges/{task}").status_code == 401
    assert sms.http.post("/tee/challenges/0x12").status_code == 400
