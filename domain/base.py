"""Building blocks shared by every aggregate: immutable models, events, the command context,
the registries of stored event names and evolve functions, and `project`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self, TypeVar
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from domain.personal import PersonalPart


class Immutable(BaseModel):
    """A frozen pydantic model that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(StrEnum):
    """Who a principal is, as far as the ledger's rules care."""

    ENTERPRISE = "enterprise"
    WINDOW = "window"
    HOTLINE = "hotline"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SYSTEM = "system"


class Actor(Immutable):
    """The principal that caused an event: who, in which role, with which credential."""

    principal_id: str
    role: Role
    token_id: str | None = None
    """The bearer token (or staff session) it acted with; None for the system and the demo."""

    @model_serializer(mode="wrap")
    def _without_absent_token(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No `token_id` key when there is none: such actors store exactly as before it existed."""
        fields: dict[str, Any] = dump(self)
        if fields.get("token_id") is None:
            fields.pop("token_id", None)
        return fields


class CommandContext(Immutable):
    """Who asks, when, and under which request and idempotency key."""

    actor: Actor
    at: datetime
    request_id: str | None = None
    idempotency_key: str | None = None

    @field_validator("at")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("the command time must carry a time zone")
        return value.astimezone(UTC)

    def event_fields(self) -> dict[str, Any]:
        """The fields every event of this command copies from it."""
        return {
            "timestamp": self.at,
            "actor": self.actor,
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
        }

    def first_event_fields(self, originator_id: UUID) -> dict[str, Any]:
        """The fields of this command's event that starts the stream `originator_id` (version 1)."""
        return {"originator_id": originator_id, "originator_version": 1, **self.event_fields()}

    def next_event_fields(self, aggregate: Aggregate, offset: int = 1) -> dict[str, Any]:
        """The fields of this command's event that follows `aggregate`'s version by `offset`."""
        return {
            "originator_id": aggregate.id,
            "originator_version": aggregate.version + offset,
            **self.event_fields(),
        }


class DomainError(Exception):
    """A command was refused by a rule of the domain; nothing is recorded."""

    def __init__(self, rule: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.rule}{where}: {self.message}"


class NotFoundError(DomainError):
    """The aggregate a command or query names does not exist."""


class ConflictError(DomainError):
    """The command raced another one, or names an aggregate that already exists."""


TAggregate = TypeVar("TAggregate", bound="Aggregate")


class DomainEvent(Immutable):
    """Something that happened to one aggregate; stored for ever, never changed.

    Data only: how an event evolves its aggregate is the aggregate's state module's (`evolves`).
    Every concrete event class is registered with `stored_as`: its stored type name is a
    contract, independent of the module or class name.
    """

    type_name: ClassVar[str]
    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    actor: Actor
    request_id: str | None = None
    idempotency_key: str | None = None

    def personal_parts(self) -> Sequence[PersonalPart]:
        """Where this event holds a natural person's data, and whose (`domain.personal`)."""
        return ()


class Aggregate(Immutable):
    """An immutable aggregate: decisions return events, `project` folds them into the next state."""

    id: UUID
    version: int
    created_on: datetime
    modified_on: datetime

    def evolve(self, events: Iterable[DomainEvent]) -> Self:
        """This aggregate after the given events (used to chain rules within a command)."""
        evolved = project(self, events)
        if not isinstance(evolved, type(self)):
            raise TypeError(f"the events turned a {type(self).__name__} into {evolved!r}")
        return evolved


TEvent = TypeVar("TEvent", bound=DomainEvent)

EVENT_TYPES: dict[str, type[DomainEvent]] = {}
"""Every event class by its stored type name (filled by `stored_as`; `domain.catalog` imports
every aggregate's events, so it is complete once that module is imported)."""


Evolver = Callable[[Any, Any], Aggregate]
"""How one event type evolves its aggregate: (the state before, None for a creating event; the
event) → the state after. `project` then sets the version and modification time."""

TEvolver = TypeVar("TEvolver", bound=Callable[..., Aggregate])

EVOLVERS: dict[type[DomainEvent], Evolver] = {}
"""The evolve function of every event class (filled by `evolves` in each aggregate's state
module; `domain.catalog` imports every one, so it is complete once that module is imported)."""


def stored_as(name: str) -> Callable[[type[TEvent]], type[TEvent]]:
    """Register an event class under the type name its events are stored with.

    The name is written into the ledger and covered by its hashes: it never changes, wherever
    the class moves and whatever it is called in code.
    """

    def register(cls: type[TEvent]) -> type[TEvent]:
        known = EVENT_TYPES.get(name)
        if known is not None and known is not cls:
            raise TypeError(f"stored type name {name!r} is taken by {known.__qualname__}")
        cls.type_name = name
        EVENT_TYPES[name] = cls
        return cls

    return register


def evolves(event_class: type[DomainEvent]) -> Callable[[TEvolver], TEvolver]:
    """Register the function that evolves an aggregate with the events of `event_class`."""

    def register(evolver: TEvolver) -> TEvolver:
        known = EVOLVERS.get(event_class)
        if known is not None and known is not evolver:
            raise TypeError(f"{event_class.__qualname__} already evolves with {known.__qualname__}")
        EVOLVERS[event_class] = evolver
        return evolver

    return register


def created_fields(event: DomainEvent) -> dict[str, Any]:
    """The base fields of an aggregate created by `event`."""
    return {
        "id": event.originator_id,
        "version": event.originator_version,
        "created_on": event.timestamp,
        "modified_on": event.timestamp,
    }


def created_from(cls: type[TAggregate], event: DomainEvent) -> TAggregate:
    """The aggregate `event` creates: the base fields, and every field of `cls` that the event
    also has, taken from the event as it is (the rest keep their defaults)."""
    taken = {
        name: getattr(event, name)
        for name in cls.model_fields
        if name in type(event).model_fields and name not in Aggregate.model_fields
    }
    return cls(**created_fields(event), **taken)


def project(aggregate: TAggregate | None, events: Iterable[DomainEvent]) -> TAggregate | None:
    """Fold events into an aggregate (the repository's projector function).

    Each event goes through the evolve function registered for its class (`evolves`); the
    aggregate then carries the event's version and time.
    """
    state: Any = aggregate
    for event in events:
        evolver = EVOLVERS.get(type(event))
        if evolver is None:
            raise LookupError(
                f"no evolve function is registered for {type(event).__name__}: import its "
                "aggregate's state module (domain.catalog imports them all)"
            )
        state = evolver(state, event).model_copy(
            update={"version": event.originator_version, "modified_on": event.timestamp}
        )
    result: TAggregate | None = state
    return result


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
