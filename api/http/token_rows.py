"""The writes beside a token's ledger event, in the same transaction: its row, its revocation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger_store.eventstore.database import AppendedPosition

if TYPE_CHECKING:
    from api.http.auth import TokenRecord


class TokenInsert:
    """The token's row, written in the transaction that records its grant."""

    def __init__(self, table: str, token_hash: str, record: TokenRecord) -> None:
        self.table = table
        self.token_hash = token_hash
        self.record = record

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """One INSERT (the position is not needed)."""
        r = self.record
        return (
            f"INSERT INTO {self.table} (token_hash, token_id, principal, role, uscc, name, "
            "created_at, revoked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (
                self.token_hash,
                r.token_id,
                r.principal_id,
                r.role.value,
                r.uscc,
                r.name,
                r.created_at.isoformat(),
                None if r.expires_at is None else r.expires_at.isoformat(),
            ),
        )


class TokenRevocation:
    """The token's revocation time, written in the transaction that records its revocation."""

    def __init__(self, table: str, token_id: str, at: datetime) -> None:
        self.table = table
        self.token_id = token_id
        self.at = at

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """One UPDATE (the position is not needed)."""
        return (
            f"UPDATE {self.table} SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            (self.at.isoformat(), self.token_id),
        )
