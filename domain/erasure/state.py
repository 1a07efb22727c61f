"""The Erasure aggregate: which subject's key was destroyed, why, and by whom."""

from __future__ import annotations

from uuid import UUID

from domain.base import Aggregate, created_from, evolves
from domain.erasure import events


class Erasure(Aggregate):
    """One destroyed data key of one data subject."""

    subject: UUID
    key: UUID
    reason: str


@evolves(events.PersonalDataErased)
def _erased(_: None, event: events.PersonalDataErased) -> Erasure:
    """Record the erasure."""
    return created_from(Erasure, event)
