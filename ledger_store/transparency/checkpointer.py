"""Signed checkpoints: an incremental Merkle tree over the ledger, signed and stored in one step.

``create_checkpoint`` resumes the tree from its stored right frontier (O(log n) nodes), reads
only the entries after the last checkpoint, checks that they hash and link to the last signed
chain head, stores the new perfect nodes, the signed checkpoint and the signing key, and moves
the tree state, all in ONE transaction. Concurrent checkpointers are serialised by the writer
lock (SQLite's BEGIN IMMEDIATE) or ``SELECT ... FOR UPDATE`` on the one state row (PostgreSQL).
Proofs are served by :mod:`ledger_store.transparency.tree_store`; ledger index ``i`` is leaf
``i - 1``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from ledger_store.eventstore.failures import SigningKeyError
from ledger_store.proofs import merkle
from ledger_store.proofs.chain import ChainFault, ChainReport, LedgerEntry, verify_chain
from ledger_store.proofs.checkpoint import (
    Checkpoint,
    key_id,
    public_key_pem,
    sign_checkpoint,
)
from ledger_store.proofs.merkle_verify import leaf_hash
from ledger_store.transparency.tree_store import (
    CHECKPOINTS,
    KEYS,
    STATE,
    MerkleStoreError,
    SigningKeyRecord,
    fetch_nodes,
    insert_nodes,
    public_keyring,
    public_keys,
    read_state,
    tree_size,
)

__all__ = [
    "CheckpointError",
    "Checkpointer",
    "SigningKeyRecord",
    "checkpoint_at",
    "checkpoint_rows",
    "covering_checkpoint",
    "create_checkpoint",
    "iter_checkpoints",
    "latest_checkpoint",
    "list_checkpoints",
    "public_keyring",
    "public_keys",
    "row_to_checkpoint",
]

log = logging.getLogger(__name__)
PAGE = 5000
_COLUMNS = "size, root_hash, chain_head, timestamp, key_id, signature"


class CheckpointError(RuntimeError):
    """The ledger cannot be checkpointed as it is stored (truncated, gapped or altered)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def row_to_checkpoint(row: tuple[Any, ...]) -> Checkpoint:
    """A stored checkpoint row (`checkpoint_rows`) as a checkpoint; ValueError or TypeError when
    it is malformed."""
    return Checkpoint(
        size=int(row[0]),
        root_hash=row[1],
        chain_head=row[2],
        timestamp=datetime.fromisoformat(row[3]),
        key_id=row[4],
        signature=row[5],
    )


def _select_checkpoint(cursor: SqlCursor, database: LedgerDatabase, size: int) -> Checkpoint | None:
    row = cursor.execute(
        f"SELECT {_COLUMNS} FROM {database.table(CHECKPOINTS)} WHERE size = ?", (size,)
    ).fetchone()
    return None if row is None else row_to_checkpoint(row)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _refusal(report: ChainReport) -> str:
    """Why new entries cannot be signed, in the checkpointer's words."""
    bad = report.first_bad_index
    match report.fault:
        case ChainFault.GAP:
            return f"ledger index {bad} is missing (found {report.found_index})"
        case ChainFault.ALTERED:
            return f"ledger index {bad}: entry hash does not match the event"
        case ChainFault.RELINKED:
            return f"ledger index {bad}: chain does not link to the last one"
        case _:
            return f"ledger index {bad}: {report.problem}"


def _extend(
    cursor: SqlCursor,
    database: LedgerDatabase,
    acc: merkle.MerkleAccumulator,
    head: bytes,
    last: int,
) -> bytes:
    """Add entries ``acc.size+1..last`` to the tree, checking hashes and links; new chain head.

    Pages are read on the checkpointer's own (locked) cursor and each is checked by the chain
    walk, resumed from the head the page before ended on.
    """
    statement = (
        "SELECT ledger_index, originator_id, originator_version, topic, state, entry_hash, "
        f"chain_hash FROM {database.events_table} WHERE ledger_index > ? AND ledger_index <= ? "
        "ORDER BY ledger_index LIMIT ?"
    )
    while acc.size < last:
        rows = cursor.execute(statement, (acc.size, last, PAGE)).fetchall()
        if not rows:
            raise CheckpointError(f"ledger index {acc.size + 1} is missing")
        page = [
            LedgerEntry(index, _uuid(originator), version, topic, bytes(state), bytes(e), bytes(c))
            for index, originator, version, topic, state, e, c in rows
        ]
        report = verify_chain(page, after=acc.size, head=head)
        if not report.intact:
            raise CheckpointError(_refusal(report))
        insert_nodes(cursor, database, acc.append(leaf_hash(e.entry_hash) for e in page))
        head = report.head
    return head


def create_checkpoint(
    database: LedgerDatabase,
    signing_key: Ed25519PrivateKey,
    now: datetime | None = None,
    *,
    rotate: bool = False,
) -> Checkpoint:
    """Sign the ledger's current head incrementally; returns the latest if nothing is new.

    A key other than the last checkpoint's signer is refused (SigningKeyError) unless `rotate`
    says it is to take over: checked under the checkpointers' lock, so a process still holding
    the previous key after a rotation refuses instead of signing with it.
    """
    when = now or _utcnow()
    with database.transaction() as cursor:
        state = read_state(cursor, database, lock=True)
        signer = current_signer(cursor, database)
        if signer is not None and signer != key_id(signing_key) and not rotate:
            raise SigningKeyError(
                f"this process's signing key (key id {key_id(signing_key)}) is not the ledger's "
                f"signing key (key id {signer}): restart it with that key, or rotate with "
                "`eport-ledger checkpoint --rotate-key`"
            )
        row = cursor.execute(
            f"SELECT ledger_index FROM {database.events_table} ORDER BY ledger_index DESC LIMIT 1"
        ).fetchone()
        last = int(row[0]) if row else 0
        if last < state.size:
            raise CheckpointError(
                f"the ledger has {last} entries but {state.size} were checkpointed: "
                f"entries {last + 1}..{state.size} were removed"
            )
        existing = _select_checkpoint(cursor, database, state.size)
        if last == state.size and existing is not None:
            return existing
        wanted = merkle.root_nodes(state.size)
        nodes = fetch_nodes(cursor, database, wanted)
        missing = [node for node in wanted if node not in nodes]
        if missing:
            raise MerkleStoreError(f"merkle frontier nodes {missing} are missing")
        acc = merkle.MerkleAccumulator.from_frontier(
            state.size, [(level, idx, nodes[level, idx]) for level, idx in wanted]
        )
        head = _extend(cursor, database, acc, state.chain_head, last)
        checkpoint = sign_checkpoint(signing_key, acc.size, acc.root(), head, when)
        cursor.execute(
            f"INSERT INTO {database.table(CHECKPOINTS)} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                checkpoint.size,
                checkpoint.root_hash,
                checkpoint.chain_head,
                checkpoint.timestamp.isoformat(),
                checkpoint.key_id,
                checkpoint.signature,
            ),
        )
        cursor.execute(
            f"INSERT INTO {database.table(KEYS)} (key_id, public_key_pem, first_used) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (checkpoint.key_id, public_key_pem(signing_key), when.isoformat()),
        )
        cursor.execute(
            f"UPDATE {database.table(STATE)} SET size = ?, chain_head = ? WHERE id = 1",
            (acc.size, head),
        )
    return checkpoint


def current_signer(cursor: SqlCursor, database: LedgerDatabase) -> str | None:
    """The key id that signs this ledger now: the last one enrolled in `signing_keys` (a key is
    enrolled by the first checkpoint it signs, or by a rotation); None before any."""
    row = cursor.execute(
        f"SELECT key_id FROM {database.table(KEYS)} ORDER BY first_used DESC, key_id LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def signing_key_of_record(database: LedgerDatabase) -> str | None:
    """`current_signer` in a transaction of its own."""
    with database.reading() as cursor:
        return current_signer(cursor, database)


def enroll_key(
    database: LedgerDatabase, signing_key: Ed25519PrivateKey, now: datetime | None = None
) -> None:
    """Make `signing_key` the ledger's signing key (a rotation), before it signs anything."""
    with database.transaction() as cursor:
        read_state(cursor, database, lock=True)  # the checkpointers' lock
        cursor.execute(
            f"DELETE FROM {database.table(KEYS)} WHERE key_id = ?", (key_id(signing_key),)
        )
        cursor.execute(
            f"INSERT INTO {database.table(KEYS)} (key_id, public_key_pem, first_used) "
            "VALUES (?, ?, ?)",
            (key_id(signing_key), public_key_pem(signing_key), (now or _utcnow()).isoformat()),
        )


def latest_checkpoint(database: LedgerDatabase) -> Checkpoint | None:
    """The checkpoint with the largest size, or None before the first one."""
    with database.transaction() as cursor:
        row = cursor.execute(
            f"SELECT {_COLUMNS} FROM {database.table(CHECKPOINTS)} ORDER BY size DESC LIMIT 1"
        ).fetchone()
    return None if row is None else row_to_checkpoint(row)


def checkpoint_at(database: LedgerDatabase, size: int) -> Checkpoint | None:
    """The checkpoint signed at exactly ``size`` entries, if any."""
    with database.transaction() as cursor:
        return _select_checkpoint(cursor, database, size)


def covering_checkpoint(database: LedgerDatabase, index: int) -> Checkpoint | None:
    """The earliest checkpoint whose size covers ledger ``index`` (size >= index), if any."""
    with database.transaction() as cursor:
        row = cursor.execute(
            f"SELECT {_COLUMNS} FROM {database.table(CHECKPOINTS)} WHERE size >= ? "
            "ORDER BY size LIMIT 1",
            (index,),
        ).fetchone()
    return None if row is None else row_to_checkpoint(row)


def list_checkpoints(
    database: LedgerDatabase, after_size: int = -1, limit: int = 100
) -> list[Checkpoint]:
    """Up to ``limit`` checkpoints with size > ``after_size``, smallest first."""
    return [row_to_checkpoint(row) for row in checkpoint_rows(database, after_size, limit)]


def checkpoint_rows(
    database: LedgerDatabase, after_size: int = -1, limit: int = 100
) -> list[tuple[Any, ...]]:
    """The rows of `list_checkpoints`, as stored (the audit reports a malformed one)."""
    with database.transaction() as cursor:
        return cursor.execute(
            f"SELECT {_COLUMNS} FROM {database.table(CHECKPOINTS)} WHERE size > ? "
            "ORDER BY size LIMIT ?",
            (after_size, limit),
        ).fetchall()


def iter_checkpoints(database: LedgerDatabase) -> Iterator[Checkpoint]:
    """Every stored checkpoint, smallest first, streamed in pages."""
    after = -1
    while page := list_checkpoints(database, after, 500):
        yield from page
        after = page[-1].size


class Checkpointer:
    """A background thread that checkpoints every N new events or T seconds (if any are new)."""

    def __init__(
        self,
        database: LedgerDatabase,
        signing_key: Ed25519PrivateKey,
        *,
        every_events: int = 1000,
        every_seconds: float = 60.0,
        poll_seconds: float | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Configure; nothing runs until :meth:`start`."""
        self.database = database
        self.signing_key = signing_key
        self.every_events = every_events
        self.every_seconds = every_seconds
        self.poll_seconds = poll_seconds or min(1.0, every_seconds)
        self.clock = clock
        self.last_error: BaseException | None = None
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, *, force: bool = False) -> Checkpoint | None:
        """Checkpoint now if due (or forced and anything is new); the new checkpoint or None."""
        pending = self.database.head()[0] - tree_size(self.database)
        elapsed = time.monotonic() - self._last
        due = pending >= self.every_events or (pending > 0 and elapsed >= self.every_seconds)
        if pending <= 0 or not (due or force):
            return None
        checkpoint = create_checkpoint(self.database, self.signing_key, self.clock())
        self._last = time.monotonic()
        return checkpoint

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.tick()
            except SigningKeyError as error:  # the operator's to fix: no traceback
                if str(error) != str(self.last_error):
                    log.error("checkpoint refused: %s", error)
                self.last_error = error
            except Exception as error:  # keep serving; the next tick retries
                self.last_error = error
                log.exception("checkpoint failed")

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._last = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="eport-checkpointer", daemon=True)
        self._thread.start()

    def stop(self, *, final: bool = True, timeout: float = 30.0) -> None:
        """Stop the thread; with ``final``, checkpoint whatever is new first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if final:
            try:
                self.tick(force=True)
            except Exception as error:
                self.last_error = error
                log.exception("final checkpoint failed")
