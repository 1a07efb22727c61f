"""Deciders of card holders (legal person, operators): registration and permissions (业务授权)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.base import CommandContext, NotFoundError
from domain.card_holder import decisions as card_holders
from domain.forms import (
    CustomsDeclarer,
    KeyKind,
    LegalPersonHolder,
    OperatorHolder,
    Permission,
    VerificationOfficer,
)
from ledger_store.application import records
from ledger_store.application.reader import Reader
from ledger_store.application.results import Decision


def register_card_holder(
    reader: Reader,
    ctx: CommandContext,
    uscc: str,
    *,
    holder: OperatorHolder | LegalPersonHolder,
    holder_kind: KeyKind = KeyKind.OPERATOR,
    customs_declarer: CustomsDeclarer | None = None,
    verification_officer: VerificationOfficer | None = None,
    authorising_card_no: str | None = None,
) -> Decision:
    """Add a card holder to an approved enterprise, authorised by its legal-person key."""
    enterprise = records.enterprise(reader, uscc)
    key = records.authorising_key(reader, authorising_card_no)
    form = records.registration_form(enterprise)
    events = card_holders.register(
        ctx,
        enterprise,
        holder_kind,
        holder,
        customs_declarer=customs_declarer,
        verification_officer=verification_officer,
        authorising_key=key,
        other_holders_id_numbers=[form.legal_person.id_number] if form else [],
    )
    return Decision.of(events[0].originator_id, events, creates=f"card holder of {uscc}")


def set_permissions(
    reader: Reader,
    ctx: CommandContext,
    uscc: str,
    holder_id: UUID,
    permissions: Iterable[Permission],
    *,
    authorising_card_no: str | None,
) -> Decision:
    """Grant and revoke so the operator holds exactly these permissions (业务授权)."""
    holder = records.card_holder(reader, holder_id)
    if holder.uscc != uscc:
        raise NotFoundError("not_found", f"operator {holder_id} is not of {uscc}", "id")
    key = records.authorising_key(reader, authorising_card_no)
    return Decision.of(holder.id, card_holders.set_permissions(holder, ctx, permissions, key))
