"""Every event the ledger stores, by its stored type name (imports every aggregate's events)."""

from __future__ import annotations

from domain.base import EVENT_TYPES, DomainEvent
from domain.card_holder import state as _card_holder
from domain.enterprise import state as _enterprise
from domain.ukey import events as _ukey

__all__ = ["EVENT_TYPES", "event_class"]

_AGGREGATE_EVENT_MODULES = (_card_holder, _enterprise, _ukey)


def event_class(type_name: str) -> type[DomainEvent] | None:
    """The event class stored under `type_name`, or None when no class has that name."""
    return EVENT_TYPES.get(type_name)
