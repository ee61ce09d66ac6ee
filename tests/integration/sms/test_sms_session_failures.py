"""The SMS's own failures while it makes a session, each with its own cause (a devnet reaches them only
with a damaged SMS database or chain, so they are provoked here on the real SMS process, SQLite and
PostgreSQL): a request without its fields, a challenge whose key does not open, a session the
database refuses to store, a stored secret that does not open, a chain whose read of the deal, or of
the app, fails after its read of the task succeeded."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sms_world import Sms, _pg
from test_sms_sessions import IPFS, WORKER_FAULT, ready_task, refused

from pocopool.protocol.statuses import ReplicateStatusCause as Cause


def sql(sms: Sms, statement: str) -> None:
    """One statement on the SMS's own database, beside the running SMS (a damage, or a refusal)."""
    if sms.db_url.startswith("sqlite:///"):
        with sqlite3.connect(sms.db_url[len("sqlite:///") :], timeout=10) as db:
            db.execute(statement)
        return
    asyncio.run(_pg(statement, database=sms.db_url.rsplit("/", 1)[1]))


@contextmanager
def sessions_refused(sms: Sms) -> Iterator[None]:
    """The database refuses every new row of the sessions table (a trigger), as a full disk would."""
    if sms.db_url.startswith("sqlite:///"):
        sql(sms, "CREATE TRIGGER refuse_sessions BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'full'); END")
        undo = ["DROP TRIGGER refuse_sessions"]
    else:
        sql(
            sms,
            "CREATE FUNCTION refuse_sessions() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'full'; END $$",
        )
        sql(
            sms,
            "CREATE TRIGGER refuse_sessions BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION refuse_sessions()",
        )
        undo = ["DROP TRIGGER refuse_sessions ON sessions", "DROP FUNCTION refuse_sessions()"]
    try:
        yield
    finally:
        for statement in undo:
            sql(sms, statement)


@contextmanager
def chain_table_away(sms: Sms, table: str) -> Iterator[None]:
    """One table of the SMS's ledger renamed away while the rest reads as before: the chain node
    answers the SMS's other reads and fails every read of `table` (as a node losing its state would)."""
    with sqlite3.connect(sms.world.path, timeout=10) as db:
        db.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        yield
    finally:
        with sqlite3.connect(sms.world.path, timeout=10) as db:
            db.execute(f"ALTER TABLE {table}_away RENAME TO {table}")


def test_a_chain_that_fails_to_read_the_deal_is_get_chain_deal_failed(sms: Sms) -> None:
    task, challenge = ready_task(sms)
    with chain_table_away(sms, "deals"):
        answer = sms.session(sms.authorization(task, challenge))
    refused(
        answer,
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_DEAL_FAILED,
        500,
        error="the chain could not be read (deal): ",
        component="chain",
        fix="Check the SMS's chain connection",
    )
    assert sms.session(sms.authorization(task, challenge)).status_code == 200  # once the chain reads again


def test_a_chain_that_fails_to_read_the_app_is_get_task_description_failed(sms: Sms) -> None:
    task, challenge = ready_task(sms)
    with chain_table_away(sms, "apps"):
        answer = sms.session(sms.authorization(task, challenge))
    refused(
        answer,
        Cause.TEE_SESSION_GENERATION_GET_TASK_DESCRIPTION_FAILED,
        500,
        error="the chain could not be read (app): ",
        component="chain",
        fix="Check the SMS's chain connection",
    )
    assert sms.session(sms.authorization(task, challenge)).status_code == 200


def test_an_authorization_without_its_fields_is_empty_params(sms: Sms) -> None:
    answer = sms.http.post("/tee/sessions", json={"chainTaskId": "", "taskIndex": 0})
    refused(
        answer,
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_EMPTY_PARAMS_UNAUTHORIZED,
        400,
        error="the authorization has no chainTaskId, dealId, workerWallet, enclaveChallenge, signature",
        component="worker",
        fix=WORKER_FAULT,
    )


def test_a_challenge_whose_key_does_not_open_is_empty_tee_credentials(sms: Sms) -> None:
    task, _ = ready_task(sms)
    damaged, challenge = ready_task(sms)
    # The other task's sealed key, copied onto this row: it is bound to its own task and does not open here.
    sql(
        sms,
        "UPDATE task_challenges SET encrypted_private_key = (SELECT encrypted_private_key FROM task_challenges "
        f"WHERE task_id = '{task.lower()}') WHERE task_id = '{damaged.lower()}'",
    )
    refused(
        sms.session(sms.authorization(damaged, challenge)),
        Cause.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CREDENTIALS,
        500,
        error=f"the enclave challenge of task {damaged} is stored but its key cannot be opened",
        component="scheduler",
        fix="Check the SMS's master key",
    )


def test_a_session_the_database_does_not_store_is_storage_call_failed(sms: Sms) -> None:
    task, challenge = ready_task(sms)
    with sessions_refused(sms):
        answer = sms.session(sms.authorization(task, challenge))
    refused(
        answer,
        Cause.TEE_SESSION_GENERATION_SECURE_SESSION_STORAGE_CALL_FAILED,
        500,
        error=f"the session of task {task} could not be stored (",
        component="scheduler",
        fix="Check the SMS's database",
    )
    assert sms.session(sms.authorization(task, challenge)).status_code == 200  # once the database takes it again


def test_a_stored_secret_that_does_not_open_is_an_unknown_issue(sms: Sms) -> None:
    w = sms.world
    task, challenge = ready_task(sms)
    worker, dataset = w.worker.address.lower(), w.dataset.lower()
    sql(
        sms,
        "UPDATE secrets SET ciphertext = (SELECT ciphertext FROM secrets WHERE kind = 'dataset' AND address = "
        f"'{dataset}' AND name = 'key') WHERE kind = 'web2' AND address = '{worker}' AND name = '{IPFS}'",
    )
    try:
        refused(
            sms.session(sms.authorization(task, challenge)),
            Cause.TEE_SESSION_GENERATION_UNKNOWN_ISSUE,
            500,
            error="the session could not be created (VaultError)",
            component="scheduler",
            fix="Read the SMS's log",
        )
    finally:
        sms.push(w.worker, "web2", w.worker.address, IPFS, "worker-token")
