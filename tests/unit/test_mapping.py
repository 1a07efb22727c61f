"""Stored events are a contract: old bytes of a reshaped event still read, through upcasts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.base import Actor, DomainEvent, Role, stored_as
from ledger_store.eventstore.mapping import OrjsonTranscoder, PydanticMapper

STREAM = UUID("7a0b5a1e-3c1d-5b52-8d7e-1f0c2a3b4c5d")


@stored_as("ParcelHandedOver")
class ParcelHandedOver(DomainEvent):
    """Version 3 of a test event: v1 had `tracking`; v2 renamed it; v3 added `carrier`."""

    class_version: ClassVar[int] = 3

    ems_tracking_number: str
    carrier: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> dict[str, Any]:
        state["ems_tracking_number"] = state.pop("tracking")
        return state

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> dict[str, Any]:
        state["carrier"] = "EMS"
        return state


def mapper() -> PydanticMapper:
    return PydanticMapper(transcoder=OrjsonTranscoder())


def stored(state: bytes) -> StoredEvent:
    return StoredEvent(
        originator_id=STREAM, originator_version=2, topic=ParcelHandedOver.type_name, state=state
    )


V1_BYTES = (
    b'{"originator_id":"7a0b5a1e-3c1d-5b52-8d7e-1f0c2a3b4c5d","originator_version":2,'
    b'"timestamp":"2024-03-01T09:30:00Z","actor":{"principal_id":"window-clerk-01",'
    b'"role":"window"},"request_id":null,"idempotency_key":null,"tracking":"EA123456785CN"}'
)


def test_bytes_written_by_version_one_read_as_the_current_version() -> None:
    event = mapper().to_domain_event(stored(V1_BYTES))
    assert isinstance(event, ParcelHandedOver)
    assert event.ems_tracking_number == "EA123456785CN"
    assert event.carrier == "EMS"
    assert event.actor == Actor(principal_id="window-clerk-01", role=Role.WINDOW)


def test_bytes_written_by_version_two_skip_the_first_upcast() -> None:
    v2 = V1_BYTES.replace(b'"tracking"', b'"ems_tracking_number"')[:-1] + b',"class_version":2}'
    event = mapper().to_domain_event(stored(v2))
    assert isinstance(event, ParcelHandedOver)
    assert event.ems_tracking_number == "EA123456785CN"
    assert event.carrier == "EMS"


def test_the_current_version_is_written_with_its_class_version_and_reads_back_equal() -> None:
    event = ParcelHandedOver(
        originator_id=STREAM,
        originator_version=2,
        timestamp=datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        actor=Actor(principal_id="window-clerk-01", role=Role.WINDOW),
        ems_tracking_number="EA123456785CN",
        carrier="SF",
    )
    record = mapper().to_stored_event(event)
    assert b'"class_version":3' in record.state
    assert mapper().to_domain_event(record) == event


def test_first_versions_are_written_without_a_class_version() -> None:
    from domain.ukey.events import PinChanged

    event = PinChanged(
        originator_id=STREAM,
        originator_version=3,
        timestamp=datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        actor=Actor(principal_id="enterprise:x", role=Role.ENTERPRISE),
    )
    record = mapper().to_stored_event(event)
    assert b"class_version" not in record.state
    assert mapper().to_domain_event(record) == event
