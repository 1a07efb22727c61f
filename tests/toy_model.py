"""A tiny aggregate for testing the store without the domain's rules (in the domain's shape:
events as data, the state and its evolvers, a decision)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

from domain.base import (
    Actor,
    Aggregate,
    CommandContext,
    DomainEvent,
    Role,
    created_fields,
    evolves,
    stored_as,
)

NS = UUID("00000000-0000-0000-0000-000000000001")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@stored_as("CounterStarted")
class CounterStarted(DomainEvent):
    """A counter was started."""


@stored_as("CounterBumped")
class CounterBumped(DomainEvent):
    """A counter was bumped."""

    by: int


class Counter(Aggregate):
    """A counter."""

    total: int


@evolves(CounterStarted)
def _started(_: None, event: CounterStarted) -> Counter:
    """Create the counter at zero."""
    return Counter(**created_fields(event), total=0)


@evolves(CounterBumped)
def _bumped(counter: Counter, event: CounterBumped) -> Counter:
    """Add to the total."""
    return counter.model_copy(update={"total": counter.total + event.by})


def bump(counter: Counter, ctx: CommandContext, by: int, offset: int = 1) -> CounterBumped:
    """The event that bumps a counter by `by`, `offset` versions after its current one."""
    return CounterBumped(**ctx.next_event_fields(counter, offset=offset), by=by)


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
