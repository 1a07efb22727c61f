"""The hash chain: how a ledger entry is hashed and linked to the one before it, and the walk
that checks a run of entries.

:func:`verify_chain` is the ONE chain walk of the project: the full audit of the stored ledger
(:mod:`replay.integrity`), the checkpointer before it signs new entries
(:mod:`ledger_store.transparency.checkpointer`) and the offline export check
(:mod:`replay.offline`) all call it, and each only words the :class:`ChainFault` it reports
for its own reader.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
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


class MalformedEntryError(ValueError):
    """An entry whose fields cannot be hashed (a negative version, a topic that is not text)."""


def recompute_entry_hash(entry: LedgerEntry) -> bytes:
    """The entry hash of an entry's content, whatever hash it claims; MalformedEntryError if the
    fields cannot be hashed."""
    try:
        return entry_hash(
            entry.ledger_index,
            entry.originator_id,
            entry.originator_version,
            entry.topic,
            entry.state,
        )
    except (struct.error, OverflowError, ValueError, TypeError, AttributeError) as error:
        raise MalformedEntryError(str(error)) from error


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


class ChainFault(Enum):
    """What is wrong with the first bad entry of a chain walk (checked in this order)."""

    GAP = "gap"
    """Its ledger index is not the next one: an entry was deleted, inserted or moved."""
    MALFORMED = "malformed"
    """Its fields cannot be hashed (a negative version, a topic that is not text, ...)."""
    ALTERED = "altered"
    """Its entry hash is not the hash of its content."""
    RELINKED = "relinked"
    """Its chain hash does not link it to the entry before."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of a chain walk: how far it got and, if broken, where and why."""

    size: int
    """The last ledger index that checked (the walk's ``after`` when none did)."""
    head: bytes
    """The chain hash at ``size``."""
    fault: ChainFault | None = None
    found_index: int | None = None
    """For :attr:`ChainFault.GAP`: the ledger index found where ``size + 1`` was expected."""
    detail: str | None = None
    """For :attr:`ChainFault.MALFORMED`: why the entry could not be hashed."""

    @property
    def intact(self) -> bool:
        """True when every entry checked."""
        return self.fault is None

    @property
    def first_bad_index(self) -> int | None:
        """The ledger index of the first entry that does not hold, if any."""
        return None if self.fault is None else self.size + 1

    @property
    def problem(self) -> str | None:
        """What is wrong, worded for the stored ledger (callers may word the fault their way)."""
        match self.fault:
            case None:
                return None
            case ChainFault.GAP:
                return (
                    f"expected ledger index {self.size + 1}, found {self.found_index}: "
                    "an entry was deleted, inserted or moved"
                )
            case ChainFault.MALFORMED:
                return f"the stored row is malformed and cannot be hashed ({self.detail})"
            case ChainFault.ALTERED:
                return "entry hash does not match the stored event: the event was altered"
            case ChainFault.RELINKED:
                return "chain hash does not link to the previous entry: the chain was rewritten"


def verify_chain(
    entries: Iterable[LedgerEntry],
    *,
    after: int = 0,
    head: bytes = GENESIS,
    on_entry: Callable[[LedgerEntry], None] | None = None,
) -> ChainReport:
    """Check density, each entry hash and each link; stop at the first bad entry.

    The walk starts after ledger index ``after`` whose chain hash is ``head`` (by default the
    start of the ledger), so a caller may check the ledger in pieces. ``on_entry`` is called
    with each entry once it has checked, in order.
    """
    size, previous = after, head
    for entry in entries:
        expected = size + 1
        if entry.ledger_index != expected:
            return ChainReport(size, previous, ChainFault.GAP, found_index=entry.ledger_index)
        try:
            recomputed = recompute_entry_hash(entry)
        except MalformedEntryError as error:
            return ChainReport(size, previous, ChainFault.MALFORMED, detail=str(error))
        if recomputed != entry.entry_hash:
            return ChainReport(size, previous, ChainFault.ALTERED)
        link = chain_hash(previous, entry.entry_hash)
        if link != entry.chain_hash:
            return ChainReport(size, previous, ChainFault.RELINKED)
        size, previous = expected, link
        if on_entry is not None:
            on_entry(entry)
    return ChainReport(size, previous)
