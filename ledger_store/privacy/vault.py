"""The personal-data vault: seals what events declare personal, reveals it, finds and erases people.

- **Subject ids** are keyed hashes (HMAC with the index key, outside the database) of who a
  person is within a scope — a card holder's id is one — so no one without the key can derive
  an id from an ID number, and the same person always gets the same id.
- **Sealing** (before an append): each personal part of an event (`DomainEvent.personal_parts`)
  becomes a `Sealed` value: AES-256-GCM under the subject's data key, with the subject and key
  ids as associated data. The data key is created on first use, wrapped by the current master
  key, and stored by the append that first needs it (in its transaction: a command naming a new
  person still commits once). What a caller may find the person by goes into the blind index,
  in the same transaction.
- **Revealing** reads the keys of the sealed values it is given, unwraps and decrypts; a value
  whose key was erased reveals as `ERASED`. Plaintext from ledgers written before sealing (release
  0.1.0) passes through as it is.
- **Erasing** a subject deletes its key (and its index entries) in the transaction that records
  `PersonalDataErased`; nothing else changes, so every hash, checkpoint and proof stays valid.
"""

from __future__ import annotations

import binascii
import os
import unicodedata
import uuid
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final, TypeVar
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, TypeAdapter

from domain.base import DomainEvent
from domain.identifiers import STORED_PHONE, check_phone
from domain.personal import STORED, PersonalPart, Sealed, Subject
from ledger_store.eventstore.database import LedgerDatabase, SqlCursor, TransactionWrite
from ledger_store.privacy import key_store
from ledger_store.privacy.key_store import IndexWrite, KeyCreation, KeyGuard, KeyRow, LiveKeys
from ledger_store.privacy.master_keys import (
    KEY_BYTES,
    NONCE_BYTES,
    WRAP_CONTEXT,
    KeyProvider,
    MasterKeyError,
)

TModel = TypeVar("TModel", bound=BaseModel)

AAD: Final = b"eport-ledger personal data v1\x00"


class Erased:
    """What a sealed value reveals once its subject's key was destroyed (删除权)."""

    def __repr__(self) -> str:
        return "ERASED"


ERASED: Final = Erased()


def _uuid_from(digest: bytes) -> UUID:
    """A version-4-shaped UUID from 16 keyed-hash bytes (indistinguishable from a random one)."""
    return uuid.UUID(bytes=digest[:16], version=4)


def normalised(kind: str, value: str) -> str:
    """How a finder's value is compared: ID numbers upper-case, phones E.164, names NFKC."""
    text = unicodedata.normalize("NFKC", value).strip()
    if kind == "phone" and STORED_PHONE.fullmatch(text):  # as the ledger stores phones
        return text
    if kind == "phone":
        try:
            return check_phone(text)
        except ValueError:
            return "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if kind == "id_number":
        return text.upper()
    return " ".join(text.split())


def _json_path_get(state: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        state = state[step]
    return state


def _json_path_set(state: Any, path: Sequence[str | int], value: Any) -> None:
    for step in path[:-1]:
        state = state[step]
    state[path[-1]] = value


def is_sealed_json(value: Any) -> bool:
    """Whether a JSON value is a sealed value's stored form."""
    return isinstance(value, dict) and "sealed" in value and "subject" in value and "key" in value


class PersonalDataVault:
    """Seals, reveals, finds and erases personal data of one ledger database."""

    def __init__(self, database: LedgerDatabase, master_keys: KeyProvider) -> None:
        self.database = database
        self.master_keys = master_keys
        self._unwrap = lru_cache(maxsize=20_000)(self._unwrap_uncached)
        self.live = LiveKeys()
        """Keys read or created before: a command using them has each checked at commit."""
        self.read_first: set[UUID] = set()
        """People whose key an append found stored elsewhere: read, do not assume new."""

    # -- ids and the blind index ------------------------------------------------------------

    def subject_id(self, subject: Subject) -> UUID:
        """The id of a subject: as given, or keyed from who the person is within a scope."""
        if isinstance(subject, UUID):
            return subject
        message = b"\x00".join(
            (b"subject", subject.scope.bytes, subject.role.encode(), subject.natural.encode())
        )
        return _uuid_from(self.master_keys.keyed_hash(message))

    def digest(self, kind: str, value: str) -> str:
        """The blind-index entry of a finder's value (hex HMAC under the index key)."""
        message = b"\x00".join((b"index", kind.encode(), normalised(kind, value).encode()))
        return self.master_keys.keyed_hash(message).hex()

    def find(self, kind: str, value: str) -> set[UUID]:
        """The subjects a caller's ID number, phone or name belongs to (exact match)."""
        with self.database.reading() as cursor:
            return key_store.subjects_by_digest(cursor, self.database, [self.digest(kind, value)])

    def live_keys(self, subjects: Iterable[UUID]) -> dict[UUID, KeyRow]:
        """The live data keys of these subjects (an erased or never-sealed one is absent)."""
        with self.database.reading() as cursor:
            return key_store.keys_of_subjects(cursor, self.database, subjects)

    def erasure_writes(self, key: KeyRow) -> list[TransactionWrite]:
        """What erasing `key` writes in the transaction of its `PersonalDataErased` event."""
        self.live.discard_all([key.key_id], [key.subject])
        writes: list[TransactionWrite] = key_store.erasure_writes(self.database, key)
        return writes

    def after_key_race(self, writes: Iterable[TransactionWrite]) -> None:
        """An append failed on the key store: a person it created a key for had one already
        (stored by another process), or a key it took from memory is gone (erased by another
        process). Forget those keys, and read those people's keys next time."""
        for write in writes:
            if isinstance(write, KeyCreation | KeyGuard):
                self.read_first |= self.live.discard_all(write.key_ids, write.subjects)

    # -- sealing ----------------------------------------------------------------------------

    def seal(
        self,
        events: Sequence[DomainEvent],
        known: Mapping[UUID, KeyRow] | None = None,
        remembered: Iterable[UUID] = (),
    ) -> tuple[list[DomainEvent], list[TransactionWrite]]:
        """The events with every plaintext personal part sealed, and the key-store writes for
        the append's transaction: new keys, blind-index entries, and the check (`KeyGuard`)
        that each key taken from this process's memory is still live — to seal with, or
        `remembered` by the decision, which revealed with the `known` keys (by subject)."""
        known = known or {}
        states: dict[int, dict[str, Any]] = {}  # the JSON form of each event that needs sealing
        plaintext: list[tuple[int, PersonalPart, UUID]] = []
        for number, event in enumerate(events):
            for part in event.personal_parts():
                if number not in states:
                    states[number] = event.model_dump(mode="json")
                value = _json_path_get(states[number], part.path)
                if value is not None and not is_sealed_json(value):
                    plaintext.append((number, part, self.subject_id(part.subject)))
        guarded = set(remembered)
        keys: dict[UUID, tuple[UUID, bytes]] = {}
        created: list[KeyRow] = []
        if plaintext:
            subjects = {subject for _, _, subject in plaintext}
            keys, created, from_memory = self._keys_for_sealing(subjects, known)
            guarded |= from_memory
        entries: set[tuple[str, UUID]] = set()
        for number, part, subject in plaintext:
            state = states[number]
            key_id, data_key = keys[subject]
            value = _json_path_get(state, part.path)
            _json_path_set(state, part.path, _seal(value, subject, key_id, data_key))
            entries |= {(self.digest(kind, found), subject) for kind, found in part.found_by}
        touched = {number for number, _, _ in plaintext}
        sealed = [
            type(event).model_validate(states[number], context={STORED: True})
            if number in touched
            else event
            for number, event in enumerate(events)
        ]
        writes: list[TransactionWrite] = []
        if created:
            writes.append(KeyCreation(self.database, created, datetime.now(UTC).isoformat()))
            self.live.add(created)  # stored by this append; a failed one is caught by the guard
        if guarded:
            writes.append(KeyGuard(self.database, guarded))
        if entries:
            writes.append(IndexWrite(self.database, sorted(entries, key=str)))
        return sealed, writes

    def _keys_for_sealing(
        self, subjects: set[UUID], known: Mapping[UUID, KeyRow]
    ) -> tuple[dict[UUID, tuple[UUID, bytes]], list[KeyRow], set[UUID]]:
        """Each subject's data key (id, plaintext); the new keys the append must store; and
        the ids of those taken from this process's memory (the append checks they are live).

        No read for a person this process has not seen: they are taken to be new, and get a
        new key that the append stores (`KeyCreation`, in its own transaction). Had they a key
        already (stored by another process, or before a restart), that append fails on the
        key store, and the command is sealed again after reading it (`after_key_race`). A
        person the decision revealed, or this process saw, uses the key it has (checked at
        commit by a `KeyGuard`).
        """
        stored = {subject: known[subject] for subject in subjects if subject in known}
        memory = self.live.by_subject  # other threads may forget meanwhile: get, never index
        remembered = {s: row for s in subjects - stored.keys() if (row := memory.get(s))}
        stored |= remembered
        if unknown := (subjects - stored.keys()) & self.read_first:
            with self.database.reading() as cursor:
                read = key_store.keys_of_subjects(cursor, self.database, unknown)
            self.live.add(read.values())
            self.read_first -= unknown
            stored |= read
        keys = {subject: (row.key_id, self._data_key(row)) for subject, row in stored.items()}
        created: list[KeyRow] = []
        for subject in sorted(subjects - stored.keys(), key=str):
            key_id, data_key = uuid.uuid4(), os.urandom(KEY_BYTES)
            master_key_id, wrapped = self.master_keys.wrap(data_key, _wrap_context(subject, key_id))
            created.append(KeyRow(key_id, subject, master_key_id, wrapped))
            keys[subject] = (key_id, data_key)
        return keys, created, {row.key_id for row in remembered.values()}

    # -- revealing --------------------------------------------------------------------------

    def _data_key(self, row: KeyRow) -> bytes:
        return self._unwrap(row.master_key_id, row.wrapped, row.subject, row.key_id)

    def _unwrap_uncached(
        self, master_key_id: str, wrapped: bytes, subject: UUID, key_id: UUID
    ) -> bytes:
        return self.master_keys.unwrap(master_key_id, wrapped, _wrap_context(subject, key_id))

    def keys_for_ids(self, cursor: SqlCursor, key_ids: Iterable[UUID]) -> dict[UUID, KeyRow]:
        """The live keys with these ids (one read; erased ones are absent)."""
        return key_store.keys_by_id(cursor, self.database, key_ids)

    def keys_for(self, cursor: SqlCursor, values: Iterable[Any]) -> dict[UUID, KeyRow]:
        """The live keys the sealed values among `values` need (one read)."""
        ids = {value.key for value in values if isinstance(value, Sealed)}
        return key_store.keys_by_id(cursor, self.database, ids)

    def reveal_json(self, value: Any, keys: Mapping[UUID, KeyRow]) -> Any:
        """A stored JSON value revealed: its plaintext JSON, ERASED, or itself if not sealed."""
        if isinstance(value, Sealed):
            sealed = value
        elif is_sealed_json(value):
            sealed = Sealed.model_validate(value, context={STORED: True})
        else:
            return value
        row = keys.get(sealed.key)
        if row is None:
            return ERASED
        try:
            raw = b64decode(sealed.sealed, validate=True)
            plain = AESGCM(self._data_key(row)).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], AAD + sealed.subject.bytes + sealed.key.bytes
            )
        except (InvalidTag, binascii.Error, ValueError) as error:  # altered, or another key's
            raise MasterKeyError(
                f"sealed data of subject {sealed.subject} does not open"
            ) from error
        return orjson.loads(plain)

    def read_keys(
        self, values: Iterable[Any], *, fresh: bool = True
    ) -> tuple[dict[UUID, KeyRow], set[UUID]]:
        """The live keys the sealed values among `values` need, by key id, with at most one
        read; and the ids of those taken from this process's memory instead (never when
        `fresh`), which a command using them has checked at commit (`KeyGuard`)."""
        wanted = {value.key for value in values if isinstance(value, Sealed)}
        memory = {} if fresh else self.live.by_id
        remembered = {k: row for k in wanted if (row := memory.get(k))}
        keys = dict(remembered)
        if missing := wanted - keys.keys():
            with self.database.reading() as cursor:
                read = key_store.keys_by_id(cursor, self.database, missing)
            self.live.add(read.values())
            keys |= read
        return keys, set(remembered)

    def reveal_model(self, model: TModel) -> TModel:
        """A model (an aggregate, a filing) with its sealed values revealed in place; an erased
        one stays sealed (its key is gone). For the window's paper forms, never for storage."""
        revealed = self.reveal_inside([model.model_dump(mode="json")], erased=lambda value: value)
        if revealed is None:
            return model
        return type(model).model_validate(revealed[0], context={STORED: True})

    def reveal_inside(
        self, values: Sequence[Any], *, erased: Callable[[dict[str, Any]], Any]
    ) -> list[Any] | None:
        """JSON values with every sealed value inside them revealed, with one read of the keys;
        one whose key was erased becomes `erased(its stored form)`. None when none is sealed."""
        sealed = [found for value in values for found in _sealed_json(value)]
        if not sealed:
            return None
        with self.database.reading() as cursor:
            keys = self.keys_for_ids(cursor, {UUID(value["key"]) for value in sealed})

        def reveal(value: Any) -> Any:
            if is_sealed_json(value):
                revealed = self.reveal_json(value, keys)
                return erased(value) if isinstance(revealed, Erased) else revealed
            if isinstance(value, dict):
                return {name: reveal(item) for name, item in value.items()}
            if isinstance(value, list):
                return [reveal(item) for item in value]
            return value

        return [reveal(value) for value in values]

    @staticmethod
    def as_type(revealed: Any, cls: Any) -> Any:
        """A revealed JSON value as the plaintext type it was sealed from (read as stored: a
        rule added later does not make what was sealed before it unreadable)."""
        return _adapter(cls).validate_python(revealed, context={STORED: True})


def _wrap_context(subject: UUID, key_id: UUID) -> bytes:
    return WRAP_CONTEXT + subject.bytes + key_id.bytes


def _seal(value: Any, subject: UUID, key_id: UUID, data_key: bytes) -> dict[str, str]:
    """The stored form of a sealed value."""
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(
        nonce, orjson.dumps(value), AAD + subject.bytes + key_id.bytes
    )
    return {
        "sealed": b64encode(nonce + ciphertext).decode("ascii"),
        "subject": str(subject),
        "key": str(key_id),
    }


@lru_cache(maxsize=64)
def _adapter(cls: Any) -> TypeAdapter[Any]:
    """A cached validator of a plaintext type."""
    return TypeAdapter(cls)


def _sealed_json(value: Any) -> list[dict[str, Any]]:
    """Every sealed value (stored form) inside a JSON value."""
    if is_sealed_json(value):
        return [value]
    if isinstance(value, dict):
        return [found for item in value.values() for found in _sealed_json(item)]
    if isinstance(value, list):
        return [found for item in value for found in _sealed_json(item)]
    return []
