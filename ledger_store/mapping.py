"""Stored form of events: pydantic models as orjson bytes, with class versions and upcasting."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from domain.base import DomainEvent

CLASS_VERSION_KEY = "class_version"


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
            topic=get_topic(type(event)),
            state=self.transcoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEvent:
        """Decode stored bytes into the current version of the event class."""
        cls: type[DomainEvent] = resolve_topic(stored_event.topic)
        state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        return cls.model_validate(upcast(cls, state))


def upcast(cls: type[DomainEvent], state: dict[str, Any]) -> dict[str, Any]:
    """Bring an old event's state up to the class's version with its `upcast_vN_vM` steps."""
    version = int(state.pop(CLASS_VERSION_KEY, 1))
    while version < cls.class_version:
        step = getattr(cls, f"upcast_v{version}_v{version + 1}")
        state = step(state)
        version += 1
    return state
