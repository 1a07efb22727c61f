"""A tiny aggregate for testing the store without the domain's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from domain.base import (
    Actor,
    Aggregate,
    CommandContext,
    DomainEvent,
    Role,
    created_fields,
    stored_as,
)

NS = UUID("00000000-0000-0000-0000-000000000001")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Counter(Aggregate):
    """A counter."""

    total: int


@stored_as("CounterStarted")
class CounterStarted(DomainEvent):
    """A counter was started."""

    def apply(self, aggregate: Any) -> Counter:
        return Counter(**created_fields(self), total=0)


@stored_as("CounterBumped")
class CounterBumped(DomainEvent):
    """A counter was bumped."""

    by: int

    def apply(self, aggregate: Any) -> Counter:
        assert isinstance(aggregate, Counter)
        return aggregate.model_copy(update={"total": aggregate.total + self.by})


def ctx(step: int = 0) -> CommandContext:
    """A deterministic context."""
    return CommandContext(
        actor=Actor(principal_id="tester", role=Role.SYSTEM), at=T0 + timedelta(seconds=step)
    )


def counter_id(name: str) -> UUID:
    """A counter's id from its name."""
    return uuid5(NS, name)


def start(name: str, step: int = 0) -> CounterStarted:
    """The event that starts a counter."""
    c = ctx(step)
    return CounterStarted(
        originator_id=counter_id(name), originator_version=1, timestamp=c.at, actor=c.actor
    )
