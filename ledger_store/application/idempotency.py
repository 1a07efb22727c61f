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


class IdempotencyMismatchError(Exception):
    """The key was used before for a different request."""


class IdempotencyWrite:
    """Writes the command's result under the key in the same transaction as its events."""

    def __init__(
        self, database: LedgerDatabase, claim: IdempotencyClaim, fields: dict[str, Any]
    ) -> None:
        self.table = database.table(TABLE)
        self.claim = claim
        self.fields = {k: v for k, v in fields.items() if k != "position"}

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """Insert the key; a concurrent twin fails on the primary key and rolls back.

        The result's `position` is the append's, which only the database knows before COMMIT:
        it goes into its own column and back into the fields when they are read. (`status` is
        a column of the table's first shape, no longer read.)
        """
        return (
            f"INSERT INTO {self.table} (scope, key, fingerprint, status, body, position) "
            f"SELECT ?, ?, ?, ?, ?, {position.sql}",
            (
                self.claim.scope,
                self.claim.key,
                self.claim.fingerprint,
                0,
                orjson.dumps(self.fields),
                *position.params,
            ),
        )


def find_answer(database: LedgerDatabase, claim: IdempotencyClaim) -> dict[str, Any] | None:
    """The first result's fields under this key, or None; another request under it is refused."""
    with database.reading() as cursor:
        row = cursor.execute(*answer_query(database, claim)).fetchone()
    return answer_from_row(row, claim)


def answer_query(database: LedgerDatabase, claim: IdempotencyClaim) -> tuple[str, tuple[str, str]]:
    """The read of the first result under this key (`?` placeholders), for any executor."""
    return (
        f"SELECT fingerprint, body, position FROM {database.table(TABLE)} "
        "WHERE scope = ? AND key = ?",
        (claim.scope, claim.key),
    )


def answer_from_row(row: Sequence[Any] | None, claim: IdempotencyClaim) -> dict[str, Any] | None:
    """The fields of `answer_query`'s row; a different request under the key is refused."""
    if row is None:
        return None
    if row[0] != claim.fingerprint:
        raise IdempotencyMismatchError(
            "this Idempotency-Key was already used for a different request"
        )
    fields: dict[str, Any] = orjson.loads(bytes(row[1]))
    fields["position"] = int(row[2])
    return fields
