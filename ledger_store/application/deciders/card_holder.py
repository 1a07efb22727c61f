"""Deciders of card holders (legal person, operators): registration and permissions (业务授权)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.base import CommandContext, NotFoundError
from domain.card_holder import decisions as card_holders
from domain.card_holder.state import CardHolder
from domain.forms import (
    CustomsDeclarer,
    KeyKind,
    LegalPersonHolder,
    OperatorHolder,
    Permission,
    VerificationOfficer,
)
from domain.guards import plaintext
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
    form = records.registration_form(reader, enterprise)
    legal_person = None if form is None else plaintext(form.legal_person, "the legal person")
    events = card_holders.register(
        ctx,
        enterprise,
        holder_kind,
        holder,
        records.card_holder_id(reader, enterprise.id, holder_kind, holder),
        customs_declarer=customs_declarer,
        verification_officer=verification_officer,
        authorising_key=key,
        other_holders_id_numbers=[] if legal_person is None else [legal_person.id_number],
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
    holder = reader.find(CardHolder, holder_id)
    if holder is None or holder.uscc != uscc:  # one answer: another enterprise's is not found
        raise NotFoundError("not_found", f"operator {holder_id} does not exist", "id")
    key = records.authorising_key(reader, authorising_card_no)
    return Decision.of(holder.id, card_holders.set_permissions(holder, ctx, permissions, key))
