"""One real stored event of every type reads back and writes again to the very same bytes.

The ledger hashes the stored bytes, so decoding and re-encoding an event must not move a byte
(field order, number and time formats, sets serialised in order). The events are real: the demo
drives enterprises through the whole process on a SQLite ledger, and the types the demo never
makes are made through the same command path afterwards. The mapper is the same on both backends
and the bytes are what it wrote, so one backend is enough here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

import domain.catalog  # noqa: F401  (fills EVENT_TYPES with every aggregate's events)
from api.demo.scenario import Demo
from api.http.auth import TokenStore
from api.http.schemas.examples import USCC as KNOWN_USCC
from domain.base import EVENT_TYPES
from domain.ukey.events import KeyIssued
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.mapping import OrjsonTranscoder, PydanticMapper
from ledger_store.eventstore.settings import Settings
from ledger_store.proofs.chain import LedgerEntry
from tests.factories import window_ctx

MAPPER = PydanticMapper(transcoder=OrjsonTranscoder())
ONE_DAY = timedelta(days=1)


def void_a_key(ledger: Ledger) -> None:
    """作废 with the holder's personal data erased: the demo never voids a key."""
    first_key = next(
        entry for entry in ledger.database.iter_entries() if entry.topic == KeyIssued.type_name
    )
    issued = MAPPER.to_domain_event(_stored(first_key))
    assert isinstance(issued, KeyIssued)
    ledger.run(
        deciders.void_key,
        window_ctx(),
        issued.card_no,
        reason="持卡人撤回同意",
        erase_personal_data=True,
    )


def lift_a_freeze(ledger: Ledger) -> None:
    """冻结, then 解冻: the demo lifts few freezes."""
    issued = [
        MAPPER.to_domain_event(_stored(entry))
        for entry in ledger.database.iter_entries()
        if entry.topic == KeyIssued.type_name
    ]
    card = next(
        e.card_no
        for e in issued
        if isinstance(e, KeyIssued)
        and not ledger.key(e.card_no).frozen
        and ledger.key(e.card_no).is_usable(window_ctx().at)
    )
    ledger.run(deciders.freeze_key, window_ctx(), card, reason="冒用嫌疑")
    ledger.run(deciders.unfreeze_key, window_ctx(), card, reason="核实无误")


def grant_and_revoke_a_token(ledger: Ledger) -> None:
    """An API token granted with an expiry, then revoked (the demo issues no tokens)."""
    tokens = TokenStore(ledger.store)
    issued = tokens.issue("enterprise", uscc=KNOWN_USCC, expires_at=datetime.now(UTC) + ONE_DAY)
    tokens.revoke(issued.record.token_id)


NOT_MADE_BY_THE_DEMO: dict[str, Callable[[Ledger], None]] = {
    "KeyVoided": void_a_key,
    "KeyUnfrozen": lift_a_freeze,
    "ApiTokenGranted": grant_and_revoke_a_token,
    "ApiTokenRevoked": grant_and_revoke_a_token,
}


def stored_type_names() -> list[str]:
    """The stored type names of the domain's events (tests register toy events too)."""
    return sorted(name for name, cls in EVENT_TYPES.items() if cls.__module__.startswith("domain."))


def _stored(entry: LedgerEntry) -> StoredEvent:
    return StoredEvent(
        originator_id=entry.originator_id,
        originator_version=entry.originator_version,
        topic=entry.topic,
        state=entry.state,
    )


@pytest.fixture(scope="module")
def stored_examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, StoredEvent]]:
    """The first stored event of each type in a demo ledger, as the recorder reads it back."""
    directory: Path = tmp_path_factory.mktemp("round-trip")
    ledger = Ledger(
        Settings(
            database_url=f"sqlite:///{directory / 'ledger.db'}",
            signing_key_path=directory / "ledger.key",
        )
    )
    try:
        Demo(ledger, seed=7, enterprises=10).run()
        for make in NOT_MADE_BY_THE_DEMO.values():
            make(ledger)  # (made even when the demo made one: the command path is the same)
        examples: dict[str, StoredEvent] = {}
        for entry in ledger.database.iter_entries():
            examples.setdefault(entry.topic, _stored(entry))
        yield examples
    finally:
        ledger.close()


def test_the_examples_hold_an_event_of_every_stored_type(
    stored_examples: dict[str, StoredEvent],
) -> None:
    missing = sorted(set(stored_type_names()) - set(stored_examples))
    assert not missing, (
        f"no stored event of {missing}: the demo no longer makes them; make them through the "
        "command path in NOT_MADE_BY_THE_DEMO"
    )
    assert set(stored_examples) <= set(stored_type_names()), sorted(stored_examples)


@pytest.mark.parametrize("type_name", stored_type_names())
def test_a_stored_event_reads_back_and_writes_again_to_the_same_bytes(
    stored_examples: dict[str, StoredEvent], type_name: str
) -> None:
    stored = stored_examples.get(type_name)
    if stored is None:
        pytest.fail(f"no stored {type_name} in the examples (see the test above)")

    event = MAPPER.to_domain_event(stored)
    again = MAPPER.to_stored_event(event)

    assert type(event).type_name == type_name
    assert again.topic == stored.topic
    assert (again.originator_id, again.originator_version) == (
        stored.originator_id,
        stored.originator_version,
    )
    assert again.state == stored.state, (
        f"{type_name} decoded from its stored bytes encodes to different bytes: the ledger's "
        "hashes cover those bytes, so reading must never change them"
    )
    assert MAPPER.to_domain_event(again) == event
