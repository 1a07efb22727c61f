"""The store appends, chains and verifies on both backends; plain-SQL tampering is found."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.base import Actor, ConflictError, Role
from ledger_store.application.ledger import Ledger
from ledger_store.application.reader import NeedsReadError, Reader
from ledger_store.application.results import Decision
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from ledger_store.proofs.chain import (
    GENESIS,
    UnchainedEvent,
    chain_hash,
    extend_chain,
    verify_chain,
)
from tests.toy_model import Counter, CounterStarted, bump, counter_id, ctx, start


@pytest.fixture
def ledger(settings: Settings) -> Iterator[EventStore]:
    app = EventStore(settings)
    yield app
    app.close()


def fill(ledger: EventStore, counters: int = 3, bumps: int = 3) -> None:
    for n in range(counters):
        ledger.record([start(f"c{n}", n)])
    for step in range(bumps):
        for n in range(counters):
            counter = ledger.load(Counter, counter_id(f"c{n}"))
            ledger.record([bump(counter, ctx(100 + step), by=step + 1)])


def test_positions_are_dense_and_in_commit_order(ledger: EventStore) -> None:
    assert ledger.record([start("a")]) == [1]
    counter = ledger.load(Counter, counter_id("a"))
    events = [bump(counter, ctx(1), by=i, offset=i) for i in (1, 2, 3)]
    assert ledger.record(events) == [2, 3, 4]
    assert ledger.position() == 4
    assert [e.ledger_index for e in ledger.database.iter_entries()] == [1, 2, 3, 4]


def test_events_of_several_aggregates_commit_together(ledger: EventStore) -> None:
    positions = ledger.record([start("a"), start("b"), start("c")])
    assert positions == [1, 2, 3]
    assert ledger.load(Counter, counter_id("b")).total == 0


def test_a_failed_append_records_nothing(ledger: EventStore) -> None:
    ledger.record([start("a")])
    with pytest.raises(ConflictError):
        ledger.record([start("b"), start("a")])  # "a" already exists: the whole batch fails
    assert ledger.position() == 1
    assert ledger.find(Counter, counter_id("b")) is None


def test_find_is_none_only_for_an_aggregate_that_does_not_exist(settings: Settings) -> None:
    ledger = Ledger(settings)
    try:
        ledger.store.record([start("a")])
        a, b = counter_id("a"), counter_id("b")
        reader = Reader(ledger.store, ledger.region, ledger.vault, trust_cache=False)
        for find in (ledger.store.find, reader.find):
            assert find(Counter, a) == ledger.load(Counter, a)
            assert find(Counter, b) is None
        assert reader.versions == {a: 1}  # what it gave, not what it did not find
        blind = Reader(ledger.store, ledger.region, ledger.vault, trust_cache=False, may_read=False)
        with pytest.raises(NeedsReadError):  # not an absence: it is not taken for one
            blind.find(Counter, b)
    finally:
        ledger.close()


def test_a_lost_race_is_a_conflict_and_records_nothing(ledger: EventStore) -> None:
    ledger.record([start("a")])
    stale = ledger.load(Counter, counter_id("a"))
    ledger.record([bump(stale, ctx(1), by=1)])
    with pytest.raises(ConflictError):
        ledger.record([bump(stale, ctx(2), by=5)])
    assert ledger.load(Counter, counter_id("a")).total == 1


def test_commuting_commands_are_decided_again_after_a_lost_race(settings: Settings) -> None:
    ledger = Ledger(settings)
    ledger.store.record([start("a")])
    stale = ledger.load(Counter, counter_id("a"))
    ledger.store.record([bump(stale, ctx(1), by=1)])
    calls = []

    def decide(reader: Reader) -> Decision:
        counter = stale if not calls else reader.load(Counter, counter_id("a"))
        calls.append(1)
        return Decision.of(counter.id, [bump(counter, ctx(2), by=10)], commutes=True)

    try:
        result = ledger.execute(decide)
        assert len(calls) == 2
        assert result.version == 3
        assert ledger.load(Counter, counter_id("a")).total == 11
    finally:
        ledger.close()


def test_the_chain_links_every_entry(ledger: EventStore) -> None:
    fill(ledger)
    previous = GENESIS
    for entry in ledger.database.iter_entries():
        assert entry.chain_hash == chain_hash(previous, entry.entry_hash)
        previous = entry.chain_hash
    report = verify_chain(ledger.database.iter_entries())
    assert report.intact
    assert report.size == 12
    assert report.head == ledger.database.head()[1]


def test_every_backend_hashes_exactly_as_the_chain_module(ledger: EventStore) -> None:
    # PostgreSQL hashes inside the database (under the writer lock); ledger_store.proofs.chain is
    # the reference the verifier uses. Several events per append, and bytes that are not ASCII.
    clerk = Actor(principal_id="海口窗口·张三", role=Role.WINDOW)
    ledger.record(
        [
            CounterStarted(
                originator_id=counter_id(name), originator_version=1, timestamp=ctx(0).at,
                actor=clerk,
            )
            for name in ("甲", "乙", "丙")
        ]
    )  # fmt: skip
    fill(ledger)
    big = ledger.load(Counter, counter_id("c0"))  # a bulk append: more events than scalar params
    ledger.record([bump(big, ctx(200), by=i, offset=i) for i in range(1, 101)])
    stored = list(ledger.database.iter_entries())
    expected = extend_chain(
        0,
        GENESIS,
        (UnchainedEvent(e.originator_id, e.originator_version, e.topic, e.state) for e in stored),
    )
    assert [(e.ledger_index, e.entry_hash, e.chain_hash) for e in stored] == [
        (e.ledger_index, e.entry_hash, e.chain_hash) for e in expected
    ]
    assert "海口窗口".encode() in stored[0].state
    assert len(stored) == 3 + 12 + 100


TAMPERINGS = {
    "change": ("UPDATE {t} SET state = ? WHERE ledger_index = 5", (b'{"forged":1}',), 5),
    "delete": ("DELETE FROM {t} WHERE ledger_index = 5", (), 5),
    "insert_at_end": (
        "INSERT INTO {t} (originator_id, originator_version, topic, state, ledger_index, "
        "entry_hash, chain_hash) SELECT originator_id, originator_version + 100, topic, state, "
        "13, entry_hash, chain_hash FROM {t} WHERE ledger_index = 12",
        (),
        13,
    ),
    "insert_in_gap": (
        "UPDATE {t} SET ledger_index = ledger_index + 1 WHERE ledger_index >= 7",
        (),
        7,
    ),
    "reorder": (
        "UPDATE {t} SET ledger_index = CASE ledger_index WHEN 4 THEN 6 ELSE 4 END "
        "WHERE ledger_index IN (4, 6)",
        (),
        4,
    ),
    "topic": (
        "UPDATE {t} SET topic = 'tests.toy_model:CounterStarted' WHERE ledger_index = 9",
        (),
        9,
    ),
}


def drop_ledger_index(ledger: EventStore) -> None:
    db = ledger.database
    if db.dialect == "postgres":
        statement = f"DROP INDEX {db.table(db.events_table_name + '_ledger_index_idx')}"  # type: ignore[attr-defined]
    else:
        statement = f"DROP INDEX {db.events_table}_ledger_index"
    with db.transaction() as cursor:
        cursor.execute(statement)


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
def test_verify_names_the_first_tampered_entry(ledger: EventStore, kind: str) -> None:
    fill(ledger)
    statement, params, first_bad = TAMPERINGS[kind]
    if kind in {"insert_in_gap", "reorder"}:
        # The unique index is checked row by row; an attacker with SQL access drops it first.
        drop_ledger_index(ledger)
    with ledger.database.transaction() as cursor:
        cursor.execute(statement.format(t=ledger.database.events_table), params)
    report = verify_chain(ledger.database.iter_entries())
    assert not report.intact
    assert report.first_bad_index == first_bad
    assert report.problem
