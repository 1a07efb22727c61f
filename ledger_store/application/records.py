"""The records commands name, loaded through the decision's reader: an enterprise by USCC, a key
by card number, a card holder by id, and a legal-person key given as a command's authority."""

from __future__ import annotations

from uuid import UUID

from domain.aggregate_ids import card_holder_id, enterprise_id, key_id
from domain.base import DomainError
from domain.card_holder.state import CardHolder
from domain.enterprise.state import Enterprise
from domain.filings import FilingKind, ThreeInOneFiling
from domain.forms import IcCardRegistrationForm, KeyKind
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


def registration_form(enterprise: Enterprise) -> IcCardRegistrationForm | None:
    """The IC-card registration form (附件2) uploaded with the three-in-one filing, if any."""
    filing = enterprise.filings.get(FilingKind.THREE_IN_ONE)
    if not isinstance(filing, ThreeInOneFiling):
        return None
    return filing.materials.ic_card_registration_form


def form_holder_id(uscc: str, form: IcCardRegistrationForm, kind: KeyKind) -> UUID:
    """The id of the card holder the approval registered from the form, for a key of `kind`."""
    holder = form.legal_person if kind is KeyKind.LEGAL_PERSON else form.operator
    return card_holder_id(uscc, holder.id_number, kind.value)
