"""Deciders of erasure (删除权): a person's data keys destroyed, with a reason, by the window or an
administrator — found by card holder id, or by the ID number or phone they gave."""

from __future__ import annotations

from uuid import UUID

from domain.base import CommandContext, DomainError
from ledger_store.application.erasures import erasure_of, subjects_of
from ledger_store.application.reader import Reader
from ledger_store.application.results import Decision

FINDERS = ("id_number", "phone")
"""What an erasure may name a person by, besides a card holder id (exact, via the blind index)."""


def erase_personal_data(
    reader: Reader,
    ctx: CommandContext,
    *,
    reason: str,
    card_holder_id: UUID | None = None,
    finder: tuple[str, str] | None = None,
) -> Decision:
    """Erase a person: a card holder by id, or everyone an ID number or phone belongs to."""
    if finder is not None:
        kind, value = finder
        if kind not in FINDERS:
            raise DomainError("unknown_finder", f"find people by {', '.join(FINDERS)}", "finder")
        subjects = reader.find_subjects(kind, value)
    elif card_holder_id is not None:
        subjects = {card_holder_id}
    else:
        raise DomainError("subject_required", "name the card holder or the person", "subject")
    events, writes = erasure_of(reader, ctx, subjects, reason)
    if not events:
        raise DomainError(
            "nothing_to_erase",
            "no readable personal data belongs to this person (never recorded, or erased)",
            "subject",
        )
    return Decision.of(
        events[0].originator_id,
        events,
        creates="the erasure",
        writes=tuple(writes),
        extra={"erased_subjects": ",".join(sorted(str(s) for s in subjects_of(events)))},
    )
