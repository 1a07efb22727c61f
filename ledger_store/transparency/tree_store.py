"""The Merkle tables of the ledger's database, and inclusion/consistency proofs served from them.

Tables (made by migration m0005, same schema as the events):

- ``merkle_nodes(level, idx, hash)``: every *perfect* subtree hash, PK ``(level, idx)``;
  level 0 holds the leaves ``SHA-256(0x00 || entry_hash)``.
- ``merkle_state(id = 1, size, chain_head)``: the tree size the nodes cover and the chain hash
  of that ledger index; the one row is the checkpointers' lock (``FOR UPDATE`` on PostgreSQL).
- ``checkpoints(size PK, root_hash, chain_head, timestamp, key_id, signature)``.
- ``signing_keys(key_id PK, public_key_pem, first_used)``: every key that ever signed.

Index mapping: the API and CLI speak 1-based **ledger indexes**; the Merkle leaf of ledger
index ``i`` is leaf number ``i - 1``. A tree of ``size`` leaves covers ledger indexes
``1..size``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from ledger_store.proofs import merkle
from ledger_store.proofs.chain import GENESIS
from ledger_store.proofs.checkpoint import key_id, load_public_key_pem

NODES = "merkle_nodes"
STATE = "merkle_state"
CHECKPOINTS = "checkpoints"
KEYS = "signing_keys"


class ProofRequestError(ValueError):
    """A proof was asked for an index or sizes the stored tree does not cover."""


class MerkleStoreError(RuntimeError):
    """The stored tree is missing nodes it should hold (run `eport-ledger verify`)."""


@dataclass(frozen=True, slots=True)
class TreeState:
    """How many leaves the stored nodes cover, and the chain hash at that ledger index."""

    size: int
    chain_head: bytes


def read_state(cursor: SqlCursor, database: LedgerDatabase, *, lock: bool = False) -> TreeState:
    """The stored tree state; with ``lock`` it is held until the transaction ends."""
    lock_clause = " FOR UPDATE" if lock and database.dialect == "postgres" else ""
    row = cursor.execute(
        f"SELECT size, chain_head FROM {database.table(STATE)} WHERE id = 1{lock_clause}"
    ).fetchone()
    if row is None:
        return TreeState(0, GENESIS)
    return TreeState(int(row[0]), bytes(row[1]))


def tree_size(database: LedgerDatabase) -> int:
    """The number of leaves the stored nodes cover (the latest checkpoint's size)."""
    with database.transaction() as cursor:
        return read_state(cursor, database).size


def _nodes_query(
    database: LedgerDatabase, wanted: Sequence[tuple[int, int]]
) -> tuple[str, list[Any]]:
    """A SELECT of the given nodes; on PostgreSQL one fixed text (arrays) that stays prepared."""
    nodes = database.table(NODES)
    if database.dialect == "postgres":
        statement = (
            f"SELECT m.level, m.idx, m.hash FROM unnest(?::int[], ?::bigint[]) AS w(level, idx) "
            f"JOIN {nodes} m ON m.level = w.level AND m.idx = w.idx"
        )
        return statement, [[level for level, _ in wanted], [idx for _, idx in wanted]]
    where = " OR ".join(["(level = ? AND idx = ?)"] * len(wanted)) or "0 = 1"
    return f"SELECT level, idx, hash FROM {nodes} WHERE {where}", [v for n in wanted for v in n]


def fetch_nodes(
    cursor: SqlCursor, database: LedgerDatabase, wanted: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """The stored hashes of the given perfect nodes, in ONE SELECT; missing ones are absent."""
    if not wanted:
        return {}
    statement, params = _nodes_query(database, wanted)
    rows = cursor.execute(statement, params).fetchall()
    return {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}


def _read_for_proof(
    database: LedgerDatabase, wanted: Sequence[tuple[int, int]], size: int
) -> dict[tuple[int, int], bytes]:
    """The tree size and the wanted nodes in ONE round trip; refuse sizes beyond the tree."""
    statement, params = _nodes_query(database, wanted)
    statement += f" UNION ALL SELECT -1, size, chain_head FROM {database.table(STATE)} WHERE id = 1"
    with database.transaction() as cursor:
        rows = cursor.execute(statement, params).fetchall()
    stored = next((int(r[1]) for r in rows if r[0] == -1), 0)
    if size > stored:
        raise ProofRequestError(
            f"tree size {size} is beyond the checkpointed tree size {stored}; "
            "make a checkpoint first or ask for a smaller size"
        )
    return {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows if r[0] != -1}


def fetch_node_ranges(
    cursor: SqlCursor, database: LedgerDatabase, ranges: Sequence[tuple[int, int, int]]
) -> dict[tuple[int, int], bytes]:
    """Stored nodes for ``(level, first_idx, last_idx)`` ranges, in one SELECT."""
    if not ranges:
        return {}
    where = " OR ".join(["(level = ? AND idx BETWEEN ? AND ?)"] * len(ranges))
    params = [value for r in ranges for value in r]
    rows = cursor.execute(
        f"SELECT level, idx, hash FROM {database.table(NODES)} WHERE {where}", params
    ).fetchall()
    return {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}


def insert_nodes(cursor: SqlCursor, database: LedgerDatabase, nodes: Sequence[merkle.Node]) -> None:
    """Store newly completed perfect nodes (one statement on PostgreSQL)."""
    table = database.table(NODES)
    if database.dialect == "postgres":
        if nodes:
            columns = [[n[0] for n in nodes], [n[1] for n in nodes], [n[2] for n in nodes]]
            cursor.execute(
                f"INSERT INTO {table} (level, idx, hash) "
                "SELECT * FROM unnest(?::int[], ?::bigint[], ?::bytea[])",
                columns,
            )
        return
    cursor.executemany(f"INSERT INTO {table} (level, idx, hash) VALUES (?, ?, ?)", list(nodes))


def _getter(nodes: dict[tuple[int, int], bytes]) -> merkle.NodeGetter:
    """A node getter over prefetched nodes that names a missing node."""

    def get(level: int, idx: int) -> bytes:
        try:
            return nodes[level, idx]
        except KeyError:
            raise MerkleStoreError(f"merkle node (level {level}, idx {idx}) is missing") from None

    return get


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """PATH(leaf_index, D[size]) for the entry at 1-based ``index`` (leaf ``index - 1``)."""

    index: int
    size: int
    path: tuple[bytes, ...]

    @property
    def leaf_index(self) -> int:
        """The RFC 9162 leaf number: ledger index minus one."""
        return self.index - 1

    def to_json(self) -> dict[str, Any]:
        """The wire form: sizes as integers, hashes as lowercase hex."""
        return {
            "index": self.index,
            "leaf_index": self.leaf_index,
            "size": self.size,
            "path": [h.hex() for h in self.path],
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """PROOF(old_size, D[new_size]): the tree of ``new_size`` extends the one of ``old_size``."""

    old_size: int
    new_size: int
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """The wire form: ``from``/``to`` sizes, hashes as lowercase hex."""
        return {"from": self.old_size, "to": self.new_size, "path": [h.hex() for h in self.path]}


def inclusion_proof(database: LedgerDatabase, index: int, size: int) -> InclusionProof:
    """The inclusion proof of ledger ``index`` (1-based) in the tree of ``size``, one node read."""
    if not 1 <= index <= size:
        raise ProofRequestError(f"ledger index {index} is not within 1..{size}")
    leaf = index - 1
    nodes = _read_for_proof(database, merkle.inclusion_proof_nodes(leaf, size), size)
    path = merkle.inclusion_proof(_getter(nodes), leaf, size)
    return InclusionProof(index, size, tuple(path))


def consistency_proof(database: LedgerDatabase, old_size: int, new_size: int) -> ConsistencyProof:
    """The consistency proof from tree size ``old_size`` to ``new_size``, one node read."""
    if not 0 <= old_size <= new_size:
        raise ProofRequestError(f"sizes must satisfy 0 <= from <= to, got {old_size}..{new_size}")
    nodes = _read_for_proof(database, merkle.consistency_proof_nodes(old_size, new_size), new_size)
    path = merkle.consistency_proof(_getter(nodes), old_size, new_size)
    return ConsistencyProof(old_size, new_size, tuple(path))


def stored_root(database: LedgerDatabase, size: int) -> bytes:
    """MTH(D[size]) from the stored nodes (at most log2(size) + 1 of them, one read)."""
    if size < 0:
        raise ProofRequestError(f"tree size must be non-negative, got {size}")
    nodes = _read_for_proof(database, merkle.root_nodes(size), size)
    return merkle.root(_getter(nodes), size)


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    """A key that signed checkpoints of this ledger, kept for ever so they stay verifiable."""

    key_id: str
    public_key_pem: str
    first_used: datetime

    def to_json(self) -> dict[str, str]:
        """The wire form."""
        return {
            "key_id": self.key_id,
            "public_key_pem": self.public_key_pem,
            "first_used": self.first_used.isoformat(),
        }


def public_keys(database: LedgerDatabase) -> list[SigningKeyRecord]:
    """Every key that ever signed a checkpoint here, oldest first."""
    with database.transaction() as cursor:
        rows = cursor.execute(
            f"SELECT key_id, public_key_pem, first_used FROM {database.table(KEYS)} "
            "ORDER BY first_used, key_id"
        ).fetchall()
    return [SigningKeyRecord(r[0], r[1], datetime.fromisoformat(r[2])) for r in rows]


def public_keyring(database: LedgerDatabase) -> dict[str, Ed25519PublicKey]:
    """The listed keys by key id (unreadable or mislabelled rows are left out)."""
    ring: dict[str, Ed25519PublicKey] = {}
    for record in public_keys(database):
        try:
            key = load_public_key_pem(record.public_key_pem)
        except ValueError:
            continue
        if key_id(key) == record.key_id:
            ring[record.key_id] = key
    return ring
