"""Walk the hash chain from the first entry and name the first one that does not hold."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ledger_store.proofs.chain import GENESIS, LedgerEntry, chain_hash, entry_hash


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of a chain walk: how far it got and, if broken, where and why."""

    size: int
    head: bytes
    first_bad_index: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """True when every entry checked."""
        return self.first_bad_index is None


def verify_chain(
    entries: Iterable[LedgerEntry], progress: Callable[[int], None] | None = None
) -> ChainReport:
    """Check density, each entry hash and each link; stop at the first bad entry."""
    expected_index, previous = 1, GENESIS
    for entry in entries:
        if entry.ledger_index != expected_index:
            problem = (
                f"expected ledger index {expected_index}, found {entry.ledger_index}: "
                "an entry was deleted, inserted or moved"
            )
            return ChainReport(expected_index - 1, previous, expected_index, problem)
        try:
            recomputed = entry_hash(
                entry.ledger_index,
                entry.originator_id,
                entry.originator_version,
                entry.topic,
                entry.state,
            )
        except (struct.error, OverflowError, ValueError, TypeError, AttributeError) as error:
            problem = f"the stored row is malformed and cannot be hashed ({error})"
            return ChainReport(expected_index - 1, previous, expected_index, problem)
        if recomputed != entry.entry_hash:
            problem = "entry hash does not match the stored event: the event was altered"
            return ChainReport(expected_index - 1, previous, expected_index, problem)
        link = chain_hash(previous, entry.entry_hash)
        if link != entry.chain_hash:
            problem = "chain hash does not link to the previous entry: the chain was rewritten"
            return ChainReport(expected_index - 1, previous, expected_index, problem)
        previous = link
        if progress is not None:
            progress(expected_index)
        expected_index += 1
    return ChainReport(expected_index - 1, previous)
