"""The writes beside a token's ledger event, in the same transaction: its row, its revocation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger_store.eventstore.database import AppendedPosition


@dataclass(frozen=True, slots=True)
class TokenTableWrite:
    """One statement on the token table (it does not need the append's position)."""

    sql: str
    params: tuple[Any, ...]

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """The statement, as the append runs it after the events."""
        return self.sql, self.params


def token_insert(table: str, token_hash: str, row: Sequence[Any]) -> TokenTableWrite:
    """The row of a token being granted: `row` is its token_id, principal, role, uscc, name,
    created_at and expires_at (times as ISO 8601 text, as the table keeps them)."""
    return TokenTableWrite(
        f"INSERT INTO {table} (token_hash, token_id, principal, role, uscc, name, created_at, "
        "expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (token_hash, *row),
    )


def token_revocation(table: str, token_id: str, at: datetime) -> TokenTableWrite:
    """The revocation time of a token being revoked."""
    return TokenTableWrite(
        f"UPDATE {table} SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
        (at.isoformat(), token_id),
    )
