"""The one chain walk: density, entry hashes and links, from the start or resumed midway."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid5

import pytest

from ledger_store.proofs.chain import (
    GENESIS,
    ChainFault,
    LedgerEntry,
    UnchainedEvent,
    extend_chain,
    verify_chain,
)

NS = UUID("00000000-0000-0000-0000-00000000abcd")
ROWS = list(
    extend_chain(
        0,
        GENESIS,
        [
            UnchainedEvent(uuid5(NS, f"s{i % 3}"), i // 3 + 1, "x:Y", b'{"n":%d}' % i)
            for i in range(9)
        ],
    )
)


def test_an_honest_chain_checks_and_every_entry_is_handed_on_in_order() -> None:
    seen: list[int] = []
    report = verify_chain(ROWS, on_entry=lambda entry: seen.append(entry.ledger_index))
    assert report.intact
    assert (report.size, report.head) == (9, ROWS[-1].chain_hash)
    assert report.first_bad_index is None
    assert report.problem is None
    assert seen == list(range(1, 10))


def test_an_empty_walk_reports_where_it_started() -> None:
    assert verify_chain([]) == verify_chain([], after=0, head=GENESIS)
    assert verify_chain([]).size == 0
    resumed = verify_chain([], after=4, head=ROWS[3].chain_hash)
    assert (resumed.size, resumed.head, resumed.intact) == (4, ROWS[3].chain_hash, True)


def test_a_walk_resumed_midway_checks_the_rest_against_the_head_it_was_given() -> None:
    assert verify_chain(ROWS[4:], after=4, head=ROWS[3].chain_hash).intact
    wrong_head = verify_chain(ROWS[4:], after=4, head=ROWS[2].chain_hash)
    assert (wrong_head.fault, wrong_head.first_bad_index) == (ChainFault.RELINKED, 5)
    wrong_start = verify_chain(ROWS[4:], after=3, head=ROWS[2].chain_hash)
    assert (wrong_start.fault, wrong_start.first_bad_index) == (ChainFault.GAP, 4)
    assert wrong_start.found_index == 5


def altered(at: int, **change: object) -> list[LedgerEntry]:
    rows = list(ROWS)
    rows[at - 1] = replace(rows[at - 1], **change)  # type: ignore[arg-type]
    return rows


@pytest.mark.parametrize(
    ("rows", "fault", "first_bad", "words"),
    [
        (ROWS[:3] + ROWS[4:], ChainFault.GAP, 4, "expected ledger index 4, found 5"),
        (altered(6, state=b"{}"), ChainFault.ALTERED, 6, "entry hash does not match"),
        (altered(2, chain_hash=bytes(32)), ChainFault.RELINKED, 2, "does not link"),
        (altered(7, originator_version=-1), ChainFault.MALFORMED, 7, "cannot be hashed"),
        (altered(8, topic=None), ChainFault.MALFORMED, 8, "cannot be hashed"),
    ],
)
def test_the_walk_stops_at_the_first_bad_entry_and_says_why(
    rows: list[LedgerEntry], fault: ChainFault, first_bad: int, words: str
) -> None:
    seen: list[int] = []
    report = verify_chain(rows, on_entry=lambda entry: seen.append(entry.ledger_index))
    assert not report.intact
    assert (report.fault, report.first_bad_index, report.size) == (fault, first_bad, first_bad - 1)
    assert report.head == ROWS[first_bad - 2].chain_hash
    assert report.problem is not None
    assert words in report.problem
    assert seen == list(range(1, first_bad))
