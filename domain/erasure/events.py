"""Events of erasure, data only: they name the subject and the destroyed key, never the data."""

from __future__ import annotations

from uuid import UUID

from domain.base import DomainEvent, stored_as
from domain.forms import Remarks


@stored_as("PersonalDataErased")
class PersonalDataErased(DomainEvent):
    """A person's data key was destroyed: everything sealed under it is unreadable for ever.

    Recorded in the transaction that deletes the key, on a stream of its own per data key, so a
    key is erased once. The proofs of every entry stay valid: they cover the sealed bytes.
    """

    subject: UUID
    key: UUID
    reason: Remarks
