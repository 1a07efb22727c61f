"""Personal data in view rows: kept as the ledger stores it (sealed), revealed when read.

A view copies a personal value from the event into a TEXT column as JSON — a sealed value's
stored form, or the plaintext of a ledger written before sealing (release 0.1.0) — and never
decrypts while folding: rebuilds stay as fast as before, and a view never holds a plaintext the
ledger does not. A query reveals the values it answers with (`Revealed`): one read of the keys
they were sealed under, then decryption; a value whose key was destroyed reads as erased, in
the live views, in as-of copies and in every rebuild alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import orjson

from ledger_store.eventstore.database import SqlCursor
from ledger_store.privacy.key_store import KeyRow
from ledger_store.privacy.vault import ERASED, Erased, PersonalDataVault, is_sealed_json

__all__ = ["ERASED", "Erased", "Revealed", "personal_text"]


def personal_text(value: Any) -> str | None:
    """The JSON text a view stores for a personal value (None stays None)."""
    return None if value is None else orjson.dumps(value).decode()


def _key_id(text: str | None) -> UUID | None:
    if text is None or not text.startswith("{"):
        return None
    value = orjson.loads(text)
    return UUID(value["key"]) if is_sealed_json(value) else None


def key_ids(texts: Iterable[str | None]) -> set[UUID]:
    """The ids of the keys these stored values were sealed under."""
    return {key for key in map(_key_id, texts) if key is not None}


class Revealed:
    """The personal values of some rows, revealed with one read of their keys."""

    def __init__(self, vault: PersonalDataVault, keys: dict[UUID, KeyRow]) -> None:
        self.vault = vault
        self.keys = keys

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
        return self.vault.reveal_json(orjson.loads(text), self.keys)

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
