"""Erasing data subjects inside a decision: the events and the key deletions (used by the
erasure decider and by voiding a key with its holder's consent withdrawn)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.base import CommandContext, DomainEvent
from domain.erasure import decisions as erasures
from domain.erasure.events import PersonalDataErased
from ledger_store.application.reader import Reader
from ledger_store.eventstore.database import TransactionWrite


def erasure_of(
    reader: Reader, ctx: CommandContext, subjects: Iterable[UUID], reason: str
) -> tuple[list[DomainEvent], list[TransactionWrite]]:
    """The events and key deletions that erase the live keys of `subjects` (none: nothing)."""
    events: list[DomainEvent] = []
    writes: list[TransactionWrite] = []
    for subject, key in sorted(reader.live_keys(subjects).items(), key=lambda item: str(item[0])):
        events += erasures.erase(ctx, subject, key.key_id, reason)
        writes += reader.erasure_writes(key)
    return events, writes


def subjects_of(events: Iterable[DomainEvent]) -> set[UUID]:
    """The subjects erasure events erased."""
    return {event.subject for event in events if isinstance(event, PersonalDataErased)}
