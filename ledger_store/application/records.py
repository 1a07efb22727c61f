"""The records commands name, loaded through the decision's reader: an enterprise by USCC, a key
by card number, a card holder by id, and a legal-person key given as a command's authority."""

from __future__ import annotations

from uuid import UUID

from domain.aggregate_ids import enterprise_id, key_id
from domain.base import DomainError
from domain.card_holder.state import CardHolder
from domain.enterprise.state import Enterprise
from domain.filings import FilingKind, ThreeInOneFiling
from domain.forms import (
    CustomsDeclarer,
    IcCardRegistrationForm,
    KeyKind,
    LegalPersonHolder,
    OperatorHolder,
    VerificationOfficer,
)
from domain.guards import plaintext
from domain.personal import person_key
from domain.ukey.state import UKey
from ledger_store.application.reader import Reader


def enterprise(reader: Reader, uscc: str) -> Enterprise:
    """An enterprise by USCC, or NotFoundError."""
    return reader.load(Enterprise, enterprise_id(uscc), what=f"enterprise {uscc}")


def key(reader: Reader, card_no: str) -> UKey:
    """A key by card number, or NotFoundError."""
    return reader.load(UKey, key_id(card_no), what=f"key {card_no}")


def card_holder(reader: Reader, holder_id: UUID) -> CardHolder:
    """A card holder by id, or NotFoundError."""
    return reader.load(CardHolder, holder_id, what=f"operator {holder_id}")


def holder_of(reader: Reader, uscc: str, holder_id: UUID) -> CardHolder:
    """A card holder of the enterprise `uscc`; refused (`unknown_holder`) otherwise."""
    holder = reader.find(CardHolder, holder_id)
    if holder is None or holder.uscc != uscc:
        raise DomainError("unknown_holder", f"no card holder {holder_id} of {uscc}", "holder_id")
    return holder


def authorising_key(reader: Reader, card_no: str | None) -> UKey | None:
    """The legal-person key a command names as its authority, if any."""
    if card_no is None:
        return None
    found = reader.find(UKey, key_id(card_no))
    if found is None:
        raise DomainError(
            "legal_person_key_required", f"no key {card_no} in the ledger", "authorising_card_no"
        )
    return found


def legal_person_keys(reader: Reader, enterprise: Enterprise) -> list[UKey]:
    """The enterprise's free legal-person key and the keys that replaced it, in order (the
    chain old → new). Legal-person keys bought outside that chain are not among them."""
    pair = enterprise.free_pair_issued
    chain: list[UKey] = []
    card_no = None if pair is None else pair.legal_person_card_no
    while card_no is not None and len(chain) < MAX_CHAIN:
        found = reader.find(UKey, key_id(card_no))
        if found is None:
            break
        chain.append(found)
        card_no = found.replaced_by
    return chain


MAX_CHAIN = 1000
"""A replacement chain longer than this is not followed further (a guard, never reached)."""


def registration_form(reader: Reader, enterprise: Enterprise) -> IcCardRegistrationForm | None:
    """The IC-card registration form (附件2) of the three-in-one filing, revealed (its holders
    in plaintext: the approval and the free pair need their ID numbers and names)."""
    filing = enterprise.filings.get(FilingKind.THREE_IN_ONE)
    if not isinstance(filing, ThreeInOneFiling):
        return None
    form = filing.materials.ic_card_registration_form
    parts = {
        "legal_person": (form.legal_person, LegalPersonHolder),
        "operator": (form.operator, OperatorHolder),
        "customs_declarer": (form.customs_declarer, CustomsDeclarer | None),
        "verification_officer": (form.verification_officer, VerificationOfficer | None),
    }
    revealed = reader.reveal_many(parts, "the IC-card registration form's")
    return form.model_copy(update=revealed)


def card_holder_id(
    reader: Reader, enterprise_id: UUID, kind: KeyKind, holder: LegalPersonHolder | OperatorHolder
) -> UUID:
    """The id of an enterprise's card holder: keyed from who they are (never derivable openly)."""
    return reader.subject_id(person_key(enterprise_id, kind.value, holder.id_number))


def form_holder_ids(
    reader: Reader, enterprise_id: UUID, form: IcCardRegistrationForm
) -> dict[KeyKind, UUID]:
    """The ids of the two card holders the approval registers from a revealed form."""
    legal_person = plaintext(form.legal_person, "the legal person")
    operator = plaintext(form.operator, "the operator")
    return {
        KeyKind.LEGAL_PERSON: card_holder_id(
            reader, enterprise_id, KeyKind.LEGAL_PERSON, legal_person
        ),
        KeyKind.OPERATOR: card_holder_id(reader, enterprise_id, KeyKind.OPERATOR, operator),
    }
