"""What the SMS keeps: secrets, the enclave challenge key of each task, sessions.

Every value that must stay secret goes through the vault before it reaches the database and is
decrypted only in memory, when a session is built or an enclave provisioned.
"""

from __future__ import annotations

import json
import secrets as random
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..protocol.crypto import address_of, new_private_key
from ..protocol.tee import SecretKind, Stage
from ..service.database import Database
from . import tables
from .vault import Vault

_ENV_COLUMN = {Stage.PRE: "pre_env", Stage.APP: "app_env", Stage.POST: "post_env"}


@dataclass(frozen=True)
class Challenge:
    address: str
    private_key: str


@dataclass(frozen=True)
class Session:
    session_id: str
    task_id: str
    worker: str
    app_fingerprint: str
    expires: int


def _now() -> datetime:
    return datetime.now(UTC)


class SmsStore:
    def __init__(self, db: Database, vault: Vault) -> None:
        self.db = db
        self.vault = vault

    # ----- secrets -------------------------------------------------------------------------------
    @staticmethod
    def _key(kind: SecretKind | str, address: str, name: str) -> tuple[str, str, str]:
        return SecretKind(kind).value, address.lower(), name

    async def put_secret(self, kind: SecretKind | str, address: str, name: str, value: str) -> bool:
        """Store or replace; True when it was created."""
        kind, address, name = self._key(kind, address, name)
        ciphertext = self.vault.encrypt(f"secret/{kind}/{address}/{name}", value.encode())
        table = tables.secrets
        where = (table.c.kind == kind) & (table.c.address == address) & (table.c.name == name)

        def write(connection: Connection) -> bool:
            updated = connection.execute(
                table.update().where(where).values(ciphertext=ciphertext, updated=_now())
            ).rowcount
            if updated:
                return False
            connection.execute(
                table.insert().values(kind=kind, address=address, name=name, ciphertext=ciphertext, updated=_now())
            )
            return True

        try:
            return await self.db.run(write)
        except IntegrityError:  # pushed at the same time by another request: now it is a replace
            return await self.db.run(write)

    async def get_secret(self, kind: SecretKind | str, address: str, name: str) -> str | None:
        kind, address, name = self._key(kind, address, name)
        table = tables.secrets

        def read(connection: Connection) -> bytes | None:
            return connection.scalar(
                sa.select(table.c.ciphertext).where(
                    (table.c.kind == kind) & (table.c.address == address) & (table.c.name == name)
                )
            )

        ciphertext = await self.db.run(read)
        if ciphertext is None:
            return None
        return self.vault.decrypt(f"secret/{kind}/{address}/{name}", ciphertext).decode()

    async def has_secret(self, kind: SecretKind | str, address: str, name: str) -> bool:
        kind, address, name = self._key(kind, address, name)
        table = tables.secrets

        def read(connection: Connection) -> bool:
            return (
                connection.scalar(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where((table.c.kind == kind) & (table.c.address == address) & (table.c.name == name))
                )
                or 0
            ) > 0

        return await self.db.run(read)

    # ----- enclave challenges ----------------------------------------------------------------------
    async def challenge(self, task_id: str) -> Challenge | None:
        task_id = task_id.lower()
        table = tables.challenges

        def read(connection: Connection) -> tuple[str, bytes] | None:
            row = connection.execute(
                sa.select(table.c.address, table.c.encrypted_private_key).where(table.c.task_id == task_id)
            ).first()
            return None if row is None else (row[0], row[1])

        found = await self.db.run(read)
        if found is None:
            return None
        key = self.vault.decrypt(f"challenge/{task_id}", found[1]).decode()
        return Challenge(found[0], key)

    async def get_or_create_challenge(self, task_id: str) -> Challenge:
        """The task's enclave challenge: a fresh secp256k1 key the first time, the same one after."""
        existing = await self.challenge(task_id)
        if existing is not None:
            return existing
        task_id = task_id.lower()
        private_key = new_private_key()
        address = address_of(private_key)
        ciphertext = self.vault.encrypt(f"challenge/{task_id}", private_key.encode())

        def write(connection: Connection) -> None:
            connection.execute(
                tables.challenges.insert().values(
                    task_id=task_id, address=address, encrypted_private_key=ciphertext, created=_now()
                )
            )

        try:
            await self.db.run(write)
        except IntegrityError:  # another request created it first: that one is the task's
            pass
        created = await self.challenge(task_id)
        assert created is not None
        return created

    # ----- sessions ---------------------------------------------------------------------------------
    async def create_session(
        self, task_id: str, worker: str, app_fingerprint: str, envs: dict[Stage, dict[str, str]], expires: int
    ) -> str:
        session_id = random.token_hex(16)
        values = {
            column: self.vault.encrypt(
                f"session/{session_id}/{stage.value}", json.dumps(envs[stage], sort_keys=True).encode()
            )
            for stage, column in _ENV_COLUMN.items()
        }

        def write(connection: Connection) -> None:
            connection.execute(
                tables.sessions.insert().values(
                    session_id=session_id,
                    task_id=task_id.lower(),
                    worker=worker,
                    app_fingerprint=app_fingerprint,
                    created=_now(),
                    expires=expires,
                    **values,
                )
            )

        await self.db.run(write)
        return session_id

    async def session_env(self, session_id: str, stage: Stage) -> tuple[Session, dict[str, str]] | None:
        table = tables.sessions
        column = table.c[_ENV_COLUMN[stage]]

        def read(connection: Connection) -> tuple[Session, bytes] | None:
            row = connection.execute(
                sa.select(table.c.task_id, table.c.worker, table.c.app_fingerprint, table.c.expires, column).where(
                    table.c.session_id == session_id
                )
            ).first()
            if row is None:
                return None
            return Session(session_id, row[0], row[1], row[2], row[3]), row[4]

        found = await self.db.run(read)
        if found is None:
            return None
        session, ciphertext = found
        env = json.loads(self.vault.decrypt(f"session/{session_id}/{stage.value}", ciphertext))
        return session, env
