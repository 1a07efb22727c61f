"""The hash chain: how one ledger entry is hashed and linked to the one before it."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from uuid import UUID

GENESIS = bytes(32)
"""The chain hash before the first entry."""

_ENTRY_DOMAIN = b"eport-ledger entry v1\x00"
_CHAIN_DOMAIN = b"eport-ledger chain v1\x00"


def entry_hash(index: int, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """SHA-256 over the entry's index, stream, version, topic and stored bytes, length-prefixed."""
    topic_bytes = topic.encode("utf-8")
    digest = hashlib.sha256(_ENTRY_DOMAIN)
    digest.update(struct.pack(">Q", index))
    digest.update(originator_id.bytes)
    digest.update(struct.pack(">Q", version))
    digest.update(struct.pack(">I", len(topic_bytes)))
    digest.update(topic_bytes)
    digest.update(struct.pack(">Q", len(state)))
    digest.update(state)
    return digest.digest()


def chain_hash(previous: bytes, entry: bytes) -> bytes:
    """SHA-256 linking an entry hash to the chain hash before it."""
    return hashlib.sha256(_CHAIN_DOMAIN + previous + entry).digest()


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One committed ledger entry: the stored event with its place and hashes."""

    ledger_index: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    entry_hash: bytes
    chain_hash: bytes


@dataclass(frozen=True, slots=True)
class UnchainedEvent:
    """The part of a stored event the chain covers."""

    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


def extend_chain(
    head_index: int, head_hash: bytes, events: Iterable[UnchainedEvent]
) -> Iterator[LedgerEntry]:
    """Give each event the next dense index and its entry and chain hashes."""
    index, previous = head_index, head_hash
    for event in events:
        index += 1
        entry = entry_hash(
            index, event.originator_id, event.originator_version, event.topic, event.state
        )
        previous = chain_hash(previous, entry)
        yield LedgerEntry(
            ledger_index=index,
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=event.topic,
            state=event.state,
            entry_hash=entry,
            chain_hash=previous,
        )
