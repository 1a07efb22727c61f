"""Personal data in view rows: kept as the ledger stores it (sealed), revealed when read.

A view copies a personal value from the event into a TEXT column as JSON — a sealed value's
stored form, or the plaintext of a ledger written before sealing (release 0.1.0) — and never
decrypts while folding: rebuilds stay as fast as before, and a view never holds a plaintext the
ledger does not. A query reveals the values it answers with (`Revealed`): one read of the keys
they were sealed under, then decryption; a value whose key was destroyed reads as erased, in
the live views, in as-of copies and in every rebuild alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import orjson

from ledger_store.eventstore.database import Dialect, SqlCursor
from ledger_store.privacy.key_store import KEY_COLUMNS, KEYS, KeyRow, rows_to_keys
from ledger_store.privacy.vault import ERASED, Erased, PersonalDataVault, is_sealed_json
from projections.engine.schema import TableNames

__all__ = ["ERASED", "Erased", "Revealed", "personal_text"]


def personal_text(value: Any) -> str | None:
    """The JSON text a view stores for a personal value (None stays None)."""
    return None if value is None else orjson.dumps(value).decode()


def _key_id(text: str | None) -> UUID | None:
    if text is None or not text.startswith("{"):
        return None
    value = orjson.loads(text)
    return UUID(value["key"]) if is_sealed_json(value) else None


def sealed_key_sql(dialect: Dialect, column: str) -> str:
    """SQL for the id of the key a stored value was sealed under (NULL when not sealed), so a
    query can join the key store and read a row and its keys in one statement."""
    if dialect == "postgres":
        return f"CASE WHEN left({column}, 1) = '{{' THEN ({column}::jsonb ->> 'key') END"
    return f"CASE WHEN substr({column}, 1, 1) = '{{' THEN json_extract({column}, '$.key') END"


def joined_keys(
    names: TableNames, columns: Sequence[str], alias: str = "dk"
) -> tuple[str, str, int]:
    """LEFT JOINs of the key store for the sealed values in these columns: (the columns to
    select, the joins, how many columns they add). `keys_in` reads them back from a row."""
    table = names.database.table(KEYS)
    selected = ", ".join(
        f"{alias}{number}.{name}" for number in range(len(columns)) for name in KEY_COLUMNS
    )
    joins = " ".join(
        f"LEFT JOIN {table} {alias}{number} "
        f"ON {alias}{number}.key_id = {sealed_key_sql(names.dialect, column)}"
        for number, column in enumerate(columns)
    )
    return selected, joins, len(columns) * len(KEY_COLUMNS)


def keys_in(values: Sequence[Any]) -> dict[UUID, KeyRow]:
    """The keys `joined_keys` selected, from a row's trailing columns (absent ones skipped)."""
    width = len(KEY_COLUMNS)
    found = [values[i : i + width] for i in range(0, len(values), width)]
    return rows_to_keys(row for row in found if row[0] is not None)


def key_ids(texts: Iterable[str | None]) -> set[UUID]:
    """The ids of the keys these stored values were sealed under."""
    return {key for key in map(_key_id, texts) if key is not None}


class Revealed:
    """The personal values of some rows, revealed with one read of their keys."""

    def __init__(self, vault: PersonalDataVault, keys: dict[UUID, KeyRow]) -> None:
        self.vault = vault
        self.keys = keys
        self._revealed: dict[str, Any] = {}  # a value read for several fields opens once

    @classmethod
    def read(
        cls, vault: PersonalDataVault, cursor: SqlCursor, texts: Iterable[str | None]
    ) -> Revealed:
        """Reveal these stored values: their keys read with `cursor` (one statement)."""
        return cls(vault, vault.keys_for_ids(cursor, key_ids(texts)))

    def __call__(self, text: str | None) -> Any:
        """The plaintext JSON value of a stored column, ERASED, or None."""
        if text is None:
            return None
        if text not in self._revealed:
            self._revealed[text] = self.vault.reveal_json(orjson.loads(text), self.keys)
        return self._revealed[text]

    def text(self, text: str | None) -> str | None:
        """A revealed string (a name): None when absent or erased."""
        value = self(text)
        return value if isinstance(value, str) else None

    def field(self, text: str | None, name: str) -> Any:
        """One field of a revealed object (a holder's phone): None when absent or erased."""
        value = self(text)
        return value.get(name) if isinstance(value, dict) else None

    def erased(self, text: str | None) -> bool:
        """Whether a stored value's key was destroyed."""
        return isinstance(self(text), Erased)
