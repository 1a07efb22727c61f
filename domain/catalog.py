"""Every event the ledger stores, by its stored type name, and how each evolves its aggregate.

Importing this module imports every aggregate's events and state, so `EVENT_TYPES` and
`EVOLVERS` are complete: whatever reads events back (the ledger) imports `project` from here.
"""

from __future__ import annotations

from domain.api_token import events as _api_token_events, state as _api_token
from domain.base import EVENT_TYPES, EVOLVERS, DomainEvent, project
from domain.card_holder import events as _card_holder_events, state as _card_holder
from domain.enterprise import events as _enterprise_events, state as _enterprise
from domain.erasure import events as _erasure_events, state as _erasure
from domain.ukey import events as _ukey_events, state as _ukey

__all__ = ["EVENT_TYPES", "EVOLVERS", "event_class", "project"]

_AGGREGATE_MODULES = (
    _enterprise_events,
    _enterprise,
    _card_holder_events,
    _card_holder,
    _ukey_events,
    _ukey,
    _erasure_events,
    _erasure,
    _api_token_events,
    _api_token,
)


def event_class(type_name: str) -> type[DomainEvent] | None:
    """The event class stored under `type_name`, or None when no class has that name."""
    return EVENT_TYPES.get(type_name)
