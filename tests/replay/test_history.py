"""As-of history of a stream: events up to a position or moment, and the covering checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.aggregate_ids import enterprise_id, key_id
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from ledger_store.transparency.checkpointer import create_checkpoint
from replay.history import StreamError, parse_as_of, stream_aggregate_id, stream_history
from tests import toy_model
from tests.toy_model import T0, Counter, CounterStarted, ctx

USCC = "91460000MA5T8XYZ1K"
CARD = "8800001234567890"
OPERATOR = UUID("2b1f8f7e-1111-4c3a-9d2e-0123456789ab")


@pytest.fixture
def ledger(settings: Settings) -> Iterator[EventStore]:
    app = EventStore(settings)
    yield app
    app.close()


def started(aggregate: UUID, step: int) -> CounterStarted:
    c = ctx(step)
    return CounterStarted(
        originator_id=aggregate, originator_version=1, timestamp=c.at, actor=c.actor
    )


def bump(ledger: EventStore, aggregate: UUID, step: int) -> None:
    counter = ledger.load(Counter, aggregate)
    ledger.record([toy_model.bump(counter, ctx(step), by=step)])


@pytest.fixture
def filled(ledger: EventStore) -> EventStore:
    """enterprise: indexes 1, 3, 5, 6 at T0+0/10/20/30s; key: 2, 4; operator: 7."""
    company, card = enterprise_id(USCC), key_id(CARD)
    ledger.record([started(company, 0)])
    ledger.record([started(card, 1)])
    bump(ledger, company, 10)
    bump(ledger, card, 11)
    bump(ledger, company, 20)
    bump(ledger, company, 30)
    ledger.record([started(OPERATOR, 40)])
    return ledger


def test_a_stream_lists_its_own_events_with_index_actor_body_and_hashes(filled: EventStore) -> None:
    history = stream_history(filled, f"enterprise:{USCC}")
    assert history.aggregate_id == enterprise_id(USCC)
    assert [e.ledger_index for e in history.events] == [1, 3, 5, 6]
    assert [e.type for e in history.events] == ["CounterStarted", *["CounterBumped"] * 3]
    first = history.events[1]
    assert first.timestamp == T0 + timedelta(seconds=10)
    assert first.actor == {"principal_id": "tester", "role": "system"}
    assert first.body["by"] == 10
    stored = filled.database.read_entries(2, 1)[0]
    assert (first.entry_hash, first.chain_hash) == (
        stored.entry_hash.hex(),
        stored.chain_hash.hex(),
    )
    assert history.checkpoint is None
    assert history.to_json()["events"][0]["ledger_index"] == 1


def test_key_and_operator_streams_resolve_to_their_aggregates(filled: EventStore) -> None:
    assert [e.ledger_index for e in stream_history(filled, f"key:{CARD}").events] == [2, 4]
    assert [e.ledger_index for e in stream_history(filled, f"operator:{OPERATOR}").events] == [7]
    assert stream_history(filled.database, "key:unknown-card").events == ()


def test_as_of_a_ledger_position_stops_at_that_position(filled: EventStore) -> None:
    history = stream_history(filled, f"enterprise:{USCC}", 5)
    assert [e.ledger_index for e in history.events] == [1, 3, 5]
    assert stream_history(filled, f"enterprise:{USCC}", 0).events == ()


def test_as_of_a_moment_stops_at_the_first_later_event(filled: EventStore) -> None:
    history = stream_history(filled, f"enterprise:{USCC}", T0 + timedelta(seconds=25))
    assert [e.ledger_index for e in history.events] == [1, 3, 5]
    at_the_second = stream_history(filled, f"enterprise:{USCC}", T0 + timedelta(seconds=10))
    assert [e.ledger_index for e in at_the_second.events] == [1, 3]


def test_the_earliest_checkpoint_covering_the_last_event_is_named(filled: EventStore) -> None:
    key = Ed25519PrivateKey.generate()
    create_checkpoint(filled.database, key)  # size 7
    history = stream_history(filled, f"enterprise:{USCC}", 3)
    assert history.checkpoint is not None
    assert history.checkpoint["size"] == 7
    bump(filled, enterprise_id(USCC), 50)  # index 8
    create_checkpoint(filled.database, key)  # size 8
    assert stream_history(filled, f"enterprise:{USCC}", 6).checkpoint["size"] == 7  # type: ignore[index]
    assert stream_history(filled, f"enterprise:{USCC}").checkpoint["size"] == 8  # type: ignore[index]


@pytest.mark.parametrize("stream", ["enterprise", "enterprise:", "ukey:123", "operator:not-a-uuid"])
def test_an_unknown_stream_is_refused(stream: str) -> None:
    with pytest.raises(StreamError):
        stream_aggregate_id(stream)


def test_as_of_text_is_a_position_or_an_aware_time() -> None:
    assert parse_as_of("42") == 42
    assert parse_as_of("2026-01-01T00:00:10Z") == T0 + timedelta(seconds=10)
    assert parse_as_of(None) is None
    with pytest.raises(StreamError, match="time zone"):
        parse_as_of("2026-01-01T00:00:10")
    with pytest.raises(StreamError):
        parse_as_of("yesterday")
