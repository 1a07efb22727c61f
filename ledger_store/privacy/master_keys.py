"""The master keys: they wrap every data subject's key, and key the subject ids and blind indexes.

They live outside the database — in a file (`EPORT_MASTER_KEY_FILE`, 0600) or an environment
variable (`EPORT_MASTER_KEYS`, the same JSON) — so a copy of the database alone reveals nothing.
The `KeyProvider` protocol is all the rest of the ledger uses, so a KMS or an HSM can stand in
for the file: it wraps and unwraps data keys and computes keyed hashes, and never hands out a
wrapping key.

The file (JSON, written atomically, never overwritten in place)::

    {"format": "eport-ledger master keys v1",
     "current": "mk-…",               the key that wraps new data keys
     "keys": {"mk-…": "<base64 of 32 bytes>", …},   every key still wrapping a data key
     "index_key": "<base64 of 32 bytes>"}   keys subject ids and blind indexes; never rotated

Rotating (`eport-ledger keys rotate`) adds a new current key, rewraps every data key under it
and retires the old ones; the ledger's events are untouched. The index key cannot rotate: the
subject ids it keyed are in the events (its loss loses lookups by natural key, not data).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.eventstore.failures import OperatorError
from ledger_store.eventstore.settings import Settings
from ledger_store.privacy import key_store

FORMAT: Final = "eport-ledger master keys v1"
WRAP_CONTEXT: Final = b"eport-ledger data key v1\x00"
"""Bound to every wrapped data key with its subject and key ids (AES-GCM associated data)."""
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12


class MasterKeyError(OperatorError, ValueError):
    """The master keys cannot be read or do not fit (names what and where); exit code 7."""

    exit_code = 7


class KeyProvider(Protocol):
    """What the ledger asks of its master keys (a file here; a KMS/HSM could answer the same)."""

    @property
    def current_id(self) -> str:
        """The id of the key that wraps new data keys."""

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        """(master key id, the data key wrapped under it, bound to `context`)."""

    def unwrap(self, master_key_id: str, wrapped: bytes, context: bytes) -> bytes:
        """The data key; MasterKeyError when the master key is gone or the wrapping is wrong."""

    def keyed_hash(self, message: bytes) -> bytes:
        """HMAC-SHA256 of `message` under the index key (subject ids, blind indexes)."""


@dataclass(frozen=True)
class MasterKeys:
    """Master keys held in memory (from a file or the environment)."""

    current: str
    keys: Mapping[str, bytes]
    index_key: bytes = field(repr=False)

    @property
    def current_id(self) -> str:
        """The id of the key that wraps new data keys."""
        return self.current

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        """Wrap a data key under the current master key (AES-256-GCM, `context` as AAD)."""
        nonce = os.urandom(NONCE_BYTES)
        return self.current, nonce + AESGCM(self.keys[self.current]).encrypt(
            nonce, data_key, context
        )

    def unwrap(self, master_key_id: str, wrapped: bytes, context: bytes) -> bytes:
        """The data key wrapped under `master_key_id`."""
        master = self.keys.get(master_key_id)
        if master is None:
            raise MasterKeyError(f"master key {master_key_id!r} is not among the configured keys")
        try:
            return AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except Exception as error:  # InvalidTag: altered, or wrapped for another context
            raise MasterKeyError(f"a data key does not unwrap under {master_key_id!r}") from error

    def keyed_hash(self, message: bytes) -> bytes:
        """HMAC-SHA256 under the index key."""
        return hmac.new(self.index_key, message, "sha256").digest()

    def with_new_current(self) -> MasterKeys:
        """These keys plus a fresh one that becomes current (the first step of a rotation)."""
        new_id = new_master_key_id()
        return MasterKeys(new_id, {**self.keys, new_id: os.urandom(KEY_BYTES)}, self.index_key)

    def retaining(self, ids: set[str]) -> MasterKeys:
        """These keys without the ones not in `ids` (the current one always stays)."""
        kept = {k: v for k, v in self.keys.items() if k in ids or k == self.current}
        return MasterKeys(self.current, kept, self.index_key)

    def to_json(self) -> bytes:
        """The file's content."""
        document = {
            "format": FORMAT,
            "current": self.current,
            "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
            "index_key": base64.b64encode(self.index_key).decode(),
        }
        return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def new_master_key_id() -> str:
    """A readable, unique id for a new master key."""
    return f"mk-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def generate() -> MasterKeys:
    """A fresh set: one master key and the index key."""
    key_id = new_master_key_id()
    return MasterKeys(key_id, {key_id: os.urandom(KEY_BYTES)}, os.urandom(KEY_BYTES))


def parse(text: bytes | str, where: str) -> MasterKeys:
    """Master keys from their JSON form; MasterKeyError naming `where` when they do not fit."""
    try:
        document = orjson.loads(text)
        if document.get("format") != FORMAT:
            raise MasterKeyError(f"{where}: not an eport-ledger master-key document ({FORMAT!r})")
        keys = {str(k): _key(v, f"{where}: key {k}") for k, v in dict(document["keys"]).items()}
        current = str(document["current"])
        index_key = _key(document["index_key"], f"{where}: index_key")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise MasterKeyError(f"{where}: malformed master keys ({error})") from None
    if current not in keys:
        raise MasterKeyError(f"{where}: the current key {current!r} is not among its keys")
    return MasterKeys(current, keys, index_key)


def _key(value: object, what: str) -> bytes:
    try:
        raw = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{what} is not base64") from None
    if len(raw) != KEY_BYTES:
        raise MasterKeyError(f"{what} is not {KEY_BYTES} bytes")
    return raw


def load_file(path: Path, *, create: bool) -> MasterKeys:
    """The master keys in `path`; created (0600) when missing and `create` is set."""
    if path.exists():
        return parse(path.read_bytes(), str(path))
    if not create:
        raise MasterKeyError(f"master-key file {path} does not exist")
    keys = generate()
    write_file(path, keys, replace=False)
    return load_file(path, create=False)  # a concurrent first start may have won


def write_file(path: Path, keys: MasterKeys, *, replace: bool) -> None:
    """Write the file atomically (0600); without `replace`, never over an existing one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, keys.to_json())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic, and refuses to replace a file another process wrote
            except FileExistsError:
                return
    finally:
        tmp.unlink(missing_ok=True)


class KeyFile:
    """The master keys of a file, read again whenever the file was replaced — so a running
    service wraps new data keys under the key a rotation (`eport-ledger keys rotate`, in
    another process) made current, and unwraps the keys it rewrapped. The keys it loaded
    before stay in its memory until it restarts."""

    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        self._keys = load_file(path, create=create)
        self._seen = self._signature()
        self._lock = threading.Lock()

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        return found.st_ino, found.st_mtime_ns, found.st_size

    def keys(self) -> MasterKeys:
        """The keys as the file holds them now (it is replaced atomically, never edited)."""
        signature = self._signature()
        if signature is not None and signature != self._seen:
            with self._lock:
                fresh = load_file(self.path, create=False)
                # Keys this process loaded stay in its memory (as they were before), so what it
                # remembers wrapped under a retired key still opens until it restarts.
                keys = {**self._keys.keys, **fresh.keys}
                self._keys = MasterKeys(fresh.current, keys, fresh.index_key)
                self._seen = signature
        return self._keys

    @property
    def current_id(self) -> str:
        """The id of the key that wraps new data keys."""
        return self.keys().current

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        """Wrap a data key under the file's current master key."""
        return self.keys().wrap(data_key, context)

    def unwrap(self, master_key_id: str, wrapped: bytes, context: bytes) -> bytes:
        """The data key wrapped under `master_key_id` (a key the file holds)."""
        return self.keys().unwrap(master_key_id, wrapped, context)

    def keyed_hash(self, message: bytes) -> bytes:
        """HMAC-SHA256 under the index key (which never rotates)."""
        return self._keys.keyed_hash(message)


def master_keys_for(settings: Settings) -> KeyProvider:
    """The master keys the settings name: `EPORT_MASTER_KEYS` (the JSON itself), else the file
    `EPORT_MASTER_KEY_FILE`, else — for the embedded SQLite ledger only — a file beside the
    database, created on first use. PostgreSQL deployments must say where the keys are."""
    if settings.master_keys is not None:
        return parse(settings.master_keys.get_secret_value(), "EPORT_MASTER_KEYS")
    path = settings.master_key_path()
    if path is None:
        raise MasterKeyError(
            "EPORT_MASTER_KEY_FILE (or EPORT_MASTER_KEYS) is required with PostgreSQL: the "
            "master keys that wrap personal-data keys live outside the database "
            "(eport-ledger keys init --file PATH creates them)"
        )
    return KeyFile(path, create=not settings.is_postgres)


SETTLE_SECONDS: Final = 11.0
"""How long a rotation waits before its last pass: longer than an append may wait for the
writer lock (10 s unless `eport.append_lock_timeout` says otherwise)."""


def rotate(
    database: LedgerDatabase, staged: MasterKeys, *, settle: float = SETTLE_SECONDS
) -> tuple[MasterKeys, int]:
    """Rewrap every data key under the new current key of `staged` (which still holds the old
    ones); the key set to keep (the current key alone) and how many were rewrapped.

    The ledger's events are untouched: the data keys do not change, only how they are wrapped.
    Write `staged` where the keys live before calling this (a crash then loses nothing), and the
    answer after it: the old keys wrap nothing any more and may go. Running services read the
    file again when it changes (`KeyFile`), so they wrap new keys under the new current one; a
    key one of them wrapped just before and stores after the first pass is rewrapped by a last
    pass `settle` seconds later (the longest an append waits for the writer lock).
    """
    count = _rewrap_retired(database, staged)
    if settle > 0:
        time.sleep(settle)
    count += _rewrap_retired(database, staged)
    return staged.retaining({staged.current}), count


def _rewrap_retired(database: LedgerDatabase, staged: MasterKeys) -> int:
    """Rewrap, in one transaction, every data key not wrapped under the current key."""
    with database.transaction() as cursor:
        rows = [
            r for r in key_store.all_keys(cursor, database) if r.master_key_id != staged.current
        ]
        for row in rows:
            context = WRAP_CONTEXT + row.subject.bytes + row.key_id.bytes
            data_key = staged.unwrap(row.master_key_id, row.wrapped, context)
            master_key_id, wrapped = staged.wrap(data_key, context)
            key_store.rewrap(
                cursor, database, replace(row, master_key_id=master_key_id, wrapped=wrapped)
            )
    return len(rows)
