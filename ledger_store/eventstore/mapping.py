"""Stored form of events: pydantic models as orjson bytes, with class versions and upcasting.

An event is stored under its explicit type name (`DomainEvent.type_name`, e.g. `KeyIssued`),
never a module path, so moving code never changes what is stored or hashed. Ledgers written by
release 0.1.0 carry `module:Class` topics; those read as aliases of the same names.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from domain.base import DomainEvent
from domain.catalog import event_class
from domain.personal import STORED

CLASS_VERSION_KEY = "class_version"

_RELEASE_0_1_0_MODULES = {
    "domain.enterprise": (
        "EnterpriseRegistered", "FilingSubmitted", "WindowApproved", "WindowRejected",
        "EnterpriseInfoChanged", "FreeKeyPairIssued",
    ),
    "domain.operator": ("OperatorRegistered", "PermissionsGranted", "PermissionsRevoked"),
    "domain.ukey_events": (
        "KeyIssued", "KeyMailed", "KeyDelivered", "PinAttemptFailed", "PinAttemptSucceeded",
        "PinLocked", "PinUnlocked", "PinChanged", "CertificateRenewalRequested",
        "CertificateRenewalPreApproved", "CertificateRenewed", "KeyReportedLost", "KeyFrozen",
        "KeyVoided", "KeyReplaced",
    ),
}  # fmt: skip
LEGACY_TOPICS: dict[str, str] = {
    f"{module}:{name}": name for module, names in _RELEASE_0_1_0_MODULES.items() for name in names
}
"""The topics release 0.1.0 stored (module path and class), by the type name they stand for."""


class UnknownEventTypeError(LookupError):
    """A stored event names a type no event class is registered under."""


def type_name(topic: str) -> str:
    """The event type name a stored topic stands for (itself, or a 0.1.0 topic's alias)."""
    return LEGACY_TOPICS.get(topic, topic)


def resolve_event_class(topic: str) -> type[DomainEvent]:
    """The event class of a stored topic; UnknownEventTypeError when there is none."""
    cls = event_class(type_name(topic))
    if cls is None:
        raise UnknownEventTypeError(f"no event type {topic!r} is registered")
    return cls


class OrjsonTranscoder(Transcoder):
    """JSON bytes via orjson (keys in field order, so equal events give equal bytes)."""

    def encode(self, obj: Any) -> bytes:
        """Serialise a JSON-compatible object."""
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        """Parse JSON bytes."""
        return orjson.loads(data)


class PydanticMapper(Mapper[UUID]):
    """Maps pydantic events to stored events and back, upcasting old class versions."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Encode an event; versions after the first are written into the state."""
        event: DomainEvent = domain_event
        state = event.model_dump(mode="json")
        if type(event).class_version > 1:
            state[CLASS_VERSION_KEY] = type(event).class_version
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=type(event).type_name,
            state=self.transcoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEvent:
        """Decode stored bytes into the current version of the event class."""
        cls = resolve_event_class(stored_event.topic)
        state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        return cls.model_validate(upcast(cls, state), context={STORED: True})


def upcast(cls: type[DomainEvent], state: dict[str, Any]) -> dict[str, Any]:
    """Bring an old event's state up to the class's version with its `upcast_vN_vM` steps."""
    version = int(state.pop(CLASS_VERSION_KEY, 1))
    while version < cls.class_version:
        step = getattr(cls, f"upcast_v{version}_v{version + 1}")
        state = step(state)
        version += 1
    return state
