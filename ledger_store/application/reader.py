"""Deciding a command from cached aggregates, with the append as the check that they were current.

Loading an aggregate for a command normally costs a read: the cache is fast-forwarded with any
events another process appended since. For the aggregates a command *writes*, that read is not
needed: their new events carry the next versions, and the append refuses a version that is
already taken, so a stale cached state can never be recorded on. The command is then decided
again from fresh state, as if it had read first. Aggregates it only *reads* are checked with one
read each after the decision, and a refusal or a no-op decided from unverified state is decided
again from fresh state, so nothing is refused or skipped because of a stale cache.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from domain.base import DomainEvent
from domain.catalog import project

_UNVERIFIED: ContextVar[dict[UUID, int] | None] = ContextVar("eport_unverified", default=None)
_CACHE_ONLY: ContextVar[bool] = ContextVar("eport_cache_only", default=False)


class NotCachedError(Exception):
    """Deciding from the cache alone needed an aggregate that the cache does not hold."""


@contextmanager
def deciding_from_cache(*, only: bool = False) -> Iterator[dict[UUID, int]]:
    """While inside, `cached_state` answers from the cache; yields what it gave (id: version).

    With `only`, a decision that would read the database raises NotCachedError instead
    (`refuse_reads`): it runs on the event loop, where a read would stall every request.
    """
    unverified: dict[UUID, int] = {}
    token = _UNVERIFIED.set(unverified)
    only_token = _CACHE_ONLY.set(only)
    try:
        yield unverified
    finally:
        _CACHE_ONLY.reset(only_token)
        _UNVERIFIED.reset(token)


def refuse_reads(aggregate_id: UUID) -> None:
    """Raise NotCachedError when deciding from the cache alone (called before any read)."""
    if _CACHE_ONLY.get():
        raise NotCachedError(aggregate_id)


def cached_state(cache: Any, aggregate_id: UUID) -> Any | None:
    """The cached state of an aggregate, unverified, when deciding from the cache; else None."""
    unverified = _UNVERIFIED.get()
    if unverified is None or cache is None:
        return None
    try:
        state = cache.get(aggregate_id)
    except KeyError:
        return None
    unverified[aggregate_id] = state.version
    return state


def remember(cache: Any, events: Sequence[DomainEvent]) -> None:
    """Put the states these (recorded) events lead to in the cache, where it holds their base.

    A concurrent command may have put a newer state meanwhile; a state put out of order is
    only ever older, and the next command on it is decided again after the append refuses it.
    """
    if cache is None:
        return
    by_aggregate: dict[UUID, list[DomainEvent]] = {}
    for event in events:
        by_aggregate.setdefault(event.originator_id, []).append(event)
    for aggregate_id, own in by_aggregate.items():
        base = None
        if own[0].originator_version > 1:
            try:
                base = cache.get(aggregate_id)
            except KeyError:
                continue
            if base.version != own[0].originator_version - 1:
                continue
        cache.put(aggregate_id, project(base, own))
