"""The key store: each data subject's wrapped data key, and the blind index, apart from the events.

Tables (in the ledger's database; a key store of its own would implement the same functions):

- `personal_data_keys(key_id PK, subject_id UNIQUE, master_key_id, wrapped, created_at)`: the
  live data key of each subject, wrapped by a master key. Erasure overwrites and deletes the row
  in the transaction that records `PersonalDataErased`; a later key of the same subject (the
  person registered again) is a new row with a new id.
- `personal_data_index(digest, subject_id)`: keyed hashes (HMAC with the index key, which is not
  in the database) of what a caller may find a person by — ID number, phone, name — to the
  subjects they belong to. Exact matches only; nothing in it can be inverted without the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger_store.eventstore.database import AppendedPosition, LedgerDatabase, SqlCursor

KEYS = "personal_data_keys"
INDEX = "personal_data_index"
KEY_COLUMNS = ("key_id", "subject_id", "master_key_id", "wrapped")
"""What a read of a key selects, in `KeyRow`'s order."""
_SELECT_KEYS = f"SELECT {', '.join(KEY_COLUMNS)} FROM"


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One subject's live data key, still wrapped."""

    key_id: UUID
    subject: UUID
    master_key_id: str
    wrapped: bytes


def _row(values: Sequence[Any]) -> KeyRow:
    key_id, subject, master_key_id, wrapped = values
    return KeyRow(UUID(str(key_id)), UUID(str(subject)), str(master_key_id), bytes(wrapped))


def keys_of_subjects(
    cursor: SqlCursor, database: LedgerDatabase, subjects: Iterable[UUID]
) -> dict[UUID, KeyRow]:
    """The live keys of these subjects (absent: none yet, or erased)."""
    wanted = sorted({str(s) for s in subjects})
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = cursor.execute(
        f"{_SELECT_KEYS} {database.table(KEYS)} WHERE subject_id IN ({marks})",
        wanted,
    ).fetchall()
    return {row.subject: row for row in map(_row, rows)}


def keys_statement(database: LedgerDatabase, key_ids: Iterable[UUID]) -> tuple[str, list[str]]:
    """The read of the keys with these ids (`?` placeholders), for any executor."""
    wanted = sorted({str(k) for k in key_ids})
    marks = ", ".join("?" * len(wanted))
    return (
        f"{_SELECT_KEYS} {database.table(KEYS)} WHERE key_id IN ({marks})",
        wanted,
    )


def rows_to_keys(rows: Iterable[Sequence[Any]]) -> dict[UUID, KeyRow]:
    """The keys `keys_statement` read, by key id."""
    return {row.key_id: row for row in map(_row, rows)}


def keys_by_id(
    cursor: SqlCursor, database: LedgerDatabase, key_ids: Iterable[UUID]
) -> dict[UUID, KeyRow]:
    """The keys with these ids that still exist (an erased key is absent)."""
    statement, params = keys_statement(database, key_ids)
    if not params:
        return {}
    return rows_to_keys(cursor.execute(statement, params).fetchall())


class KeyCreation:
    """Stores new data keys in the transaction that appends the events sealed under them.

    A plain INSERT: when another command stored a key for one of these subjects first, the
    subject's UNIQUE constraint fails the whole append (events, keys, index) and the command
    is decided and sealed again, under the stored key (`raced_for_a_key`). So a key is never
    stored without the events that need it, and a command naming a new person commits once.
    """

    def __init__(self, database: LedgerDatabase, rows: Sequence[KeyRow], created_at: str) -> None:
        self.table = database.table(KEYS)
        self.rows = rows
        self.created_at = created_at
        self.key_ids = [row.key_id for row in rows]
        self.subjects = [row.subject for row in rows]
        self.cast = "?::bytea" if database.dialect == "postgres" else "?"

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """One multi-row INSERT."""
        values = ", ".join([f"(?, ?, ?, {self.cast}, ?)"] * len(self.rows))
        params = tuple(
            value
            for row in self.rows
            for value in (
                str(row.key_id),
                str(row.subject),
                row.master_key_id,
                row.wrapped,
                self.created_at,
            )
        )
        return (
            f"INSERT INTO {self.table} "
            f"(key_id, subject_id, master_key_id, wrapped, created_at) VALUES {values}",
            params,
        )


class KeyGuard:
    """Fails the append unless every data key the command took from this process's memory
    (`LiveKeys`) to reveal or seal with is still live — so a key another process erased
    since this one read it is never written under nor decided on.

    It reads where the append ends, so it runs after the append took the writer lock. The
    failure is a NOT NULL refusal of the key table, inserted only when a key is missing
    (`raced_for_a_key`): the command is then decided again, with the keys read afresh. An
    erasure that commits while this append waits for the lock is as close a race as a key
    read just before the append always was (docs/privacy.md).
    """

    def __init__(self, database: LedgerDatabase, key_ids: Iterable[UUID]) -> None:
        self.table = database.table(KEYS)
        self.key_ids = sorted(set(key_ids), key=str)
        self.subjects: list[UUID] = []  # known by the key ids

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """One INSERT of nothing, or of a row no table accepts when a key is missing."""
        marks = ", ".join("?" * len(self.key_ids))
        live = (
            f"SELECT 1 FROM {self.table} WHERE key_id IN ({marks}) AND {position.sql} IS NOT NULL"
        )
        return (
            f"INSERT INTO {self.table} (key_id, subject_id, master_key_id, wrapped, created_at) "
            f"SELECT NULL, NULL, NULL, NULL, NULL "
            f"WHERE (SELECT count(*) FROM ({live}) AS live) < ?",
            (*map(str, self.key_ids), *position.params, len(self.key_ids)),
        )


class LiveKeys:
    """The data keys this process has read or created, by subject and by key id (bounded).

    A cache that may be stale only one way — a key another process erased, or one whose
    append failed — and every use of it is checked at commit by a `KeyGuard`; a failed check
    forgets it all.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self.by_subject: dict[UUID, KeyRow] = {}
        self.by_id: dict[UUID, KeyRow] = {}

    def add(self, rows: Iterable[KeyRow]) -> None:
        """Remember keys read from the store."""
        rows = list(rows)
        if len(self.by_id) + len(rows) > self.limit:
            self.forget()
        for row in rows:
            self.by_subject[row.subject] = row
            self.by_id[row.key_id] = row

    def discard_all(self, key_ids: Iterable[UUID], subjects: Iterable[UUID]) -> set[UUID]:
        """Forget these keys and these subjects' keys (erased, or found stale by an append);
        the subjects whose keys were forgotten."""
        forgotten = set(subjects)
        for key_id in key_ids:
            if (row := self.by_id.get(key_id)) is not None:
                forgotten.add(row.subject)
        for subject in forgotten:
            if (row := self.by_subject.pop(subject, None)) is not None:
                self.by_id.pop(row.key_id, None)
        for key_id in key_ids:
            self.by_id.pop(key_id, None)
        return forgotten

    def forget(self) -> None:
        """Forget every key (the cache is full)."""
        self.by_subject = {}
        self.by_id = {}


def raced_for_a_key(error: BaseException) -> bool:
    """Whether an append failed because another command stored a data key it was creating."""
    return KEYS in str(error)


def all_keys(cursor: SqlCursor, database: LedgerDatabase) -> list[KeyRow]:
    """Every live key (for a master-key rotation)."""
    rows = cursor.execute(f"{_SELECT_KEYS} {database.table(KEYS)} ORDER BY key_id").fetchall()
    return [_row(row) for row in rows]


def rewrap(cursor: SqlCursor, database: LedgerDatabase, row: KeyRow) -> None:
    """Store a key wrapped anew (same key id and data key, another master key)."""
    cursor.execute(
        f"UPDATE {database.table(KEYS)} SET master_key_id = ?, wrapped = ? WHERE key_id = ?",
        (row.master_key_id, row.wrapped, str(row.key_id)),
    )


def subjects_by_digest(
    cursor: SqlCursor, database: LedgerDatabase, digests: Iterable[str]
) -> set[UUID]:
    """The subjects any of these blind-index digests belongs to."""
    wanted = sorted(set(digests))
    if not wanted:
        return set()
    marks = ", ".join("?" * len(wanted))
    rows = cursor.execute(
        f"SELECT subject_id FROM {database.table(INDEX)} WHERE digest IN ({marks})", wanted
    ).fetchall()
    return {UUID(str(row[0])) for row in rows}


class IndexWrite:
    """Adds blind-index entries in the transaction that appends the sealed events."""

    def __init__(self, database: LedgerDatabase, entries: Sequence[tuple[str, UUID]]) -> None:
        self.table = database.table(INDEX)
        self.entries = entries

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """One multi-row INSERT; entries already there stay."""
        values = ", ".join(["(?, ?)"] * len(self.entries))
        params = tuple(v for digest, subject in self.entries for v in (digest, str(subject)))
        return (
            f"INSERT INTO {self.table} (digest, subject_id) VALUES {values} ON CONFLICT DO NOTHING",
            params,
        )


class KeyOverwrite:
    """Overwrites a wrapped key with zeros first (SQLite: the page then keeps no trace of it)."""

    def __init__(self, database: LedgerDatabase, key_id: UUID) -> None:
        self.table = database.table(KEYS)
        self.key_id = key_id

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """UPDATE the wrapped bytes to zeros of the same length."""
        return (
            f"UPDATE {self.table} SET wrapped = zeroblob(length(wrapped)) WHERE key_id = ?",
            (str(self.key_id),),
        )


class KeyDeletion:
    """Deletes a key row, or the blind-index entries of a subject, with the erasure event."""

    def __init__(self, table: str, column: str, value: UUID) -> None:
        self.table = table
        self.column = column
        self.value = value

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """One DELETE."""
        return f"DELETE FROM {self.table} WHERE {self.column} = ?", (str(self.value),)


def erasure_writes(database: LedgerDatabase, key: KeyRow) -> list[Any]:
    """What erasing one key writes beside its event: no key, no blind-index entries.

    On SQLite the key is overwritten with zeros first, so the page keeps no copy. PostgreSQL
    keeps a deleted row's old version until VACUUM (and in its WAL until recycled): an in-place
    overwrite cannot reach those (docs/privacy.md says what erasure cannot reach).
    """
    deletions: list[Any] = [
        KeyDeletion(database.table(KEYS), "key_id", key.key_id),
        KeyDeletion(database.table(INDEX), "subject_id", key.subject),
    ]
    if database.dialect == "sqlite":
        return [KeyOverwrite(database, key.key_id), *deletions]
    return deletions
