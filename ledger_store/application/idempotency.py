"""Idempotency keys, stored in the transaction that records the command's events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ledger_store.eventstore.database import AppendedPosition, LedgerDatabase

TABLE = "idempotency_keys"


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """A request's claim on an idempotency key: who, which key, and what the request was."""

    scope: str
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer given under an idempotency key."""

    fingerprint: str
    status: int
    body: dict[str, Any]


class IdempotencyMismatchError(Exception):
    """The key was used before for a different request."""


def create_table(database: LedgerDatabase) -> None:
    """Create the idempotency table when it is missing."""
    blob = "BYTEA" if database.dialect == "postgres" else "BLOB"
    with database.transaction() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {database.table(TABLE)} ("
            "scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            f"status INTEGER NOT NULL, body {blob} NOT NULL, position BIGINT NOT NULL, "
            "PRIMARY KEY (scope, key))"
        )


class IdempotencyWrite:
    """Writes the answer under the key in the same transaction as the events."""

    def __init__(
        self,
        database: LedgerDatabase,
        claim: IdempotencyClaim,
        answer: dict[str, Any],
        status: int = 201,
    ) -> None:
        self.table = database.table(TABLE)
        self.claim = claim
        self.answer = {k: v for k, v in answer.items() if k != "position"}
        self.status = status

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """Insert the key; a concurrent twin fails on the primary key and rolls back.

        The answer's `position` is the append's, which only the database knows before COMMIT:
        it goes into its own column and back into the answer when it is read.
        """
        return (
            f"INSERT INTO {self.table} (scope, key, fingerprint, status, body, position) "
            f"SELECT ?, ?, ?, ?, ?, {position.sql}",
            (
                self.claim.scope,
                self.claim.key,
                self.claim.fingerprint,
                self.status,
                orjson.dumps(self.answer),
                *position.params,
            ),
        )


def find_answer(database: LedgerDatabase, claim: IdempotencyClaim) -> StoredAnswer | None:
    """The first answer under this key, or None; a different request under it is refused."""
    with database.reading() as cursor:
        row = cursor.execute(*answer_query(database, claim)).fetchone()
    return answer_from_row(row, claim)


def answer_query(database: LedgerDatabase, claim: IdempotencyClaim) -> tuple[str, tuple[str, str]]:
    """The read of the first answer under this key (`?` placeholders), for any executor."""
    return (
        f"SELECT fingerprint, status, body, position FROM {database.table(TABLE)} "
        "WHERE scope = ? AND key = ?",
        (claim.scope, claim.key),
    )


def answer_from_row(row: Sequence[Any] | None, claim: IdempotencyClaim) -> StoredAnswer | None:
    """The stored answer of `answer_query`'s row; a different request under the key is refused."""
    if row is None:
        return None
    body = orjson.loads(bytes(row[2]))
    body["position"] = int(row[3])
    answer = StoredAnswer(row[0], int(row[1]), body)
    if answer.fingerprint != claim.fingerprint:
        raise IdempotencyMismatchError(
            "this Idempotency-Key was already used for a different request"
        )
    return answer
