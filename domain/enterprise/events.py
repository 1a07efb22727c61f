"""Events of an enterprise's enrollment, data only (stored names and fields are a contract)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Self

from pydantic import model_validator

from domain.base import DomainEvent, Immutable, stored_as
from domain.filings import Filing, FilingKind, filing_parts
from domain.forms import Address, CompanyName, Name, Text
from domain.identifiers import CardNumber, CustomsCode, Uscc
from domain.personal import PersonalPart, Sealed, person_key, personal


class EnterpriseChange(Immutable):
    """A change of enterprise information (变更); at least one field."""

    name: CompanyName | None = None
    business_address: Address | None = None
    legal_representative: Annotated[str | Sealed, personal(Name)] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_dump(exclude_none=True):
            raise ValueError("change at least one of name, business_address, legal_representative")
        return self


@stored_as("EnterpriseRegistered")
class EnterpriseRegistered(DomainEvent):
    """An enterprise holding a customs registration receipt was registered in the ledger."""

    uscc: Uscc
    name: CompanyName
    customs_code: CustomsCode
    region: str
    receipt_number: Text


@stored_as("FilingSubmitted")
class FilingSubmitted(DomainEvent):
    """One of the four filings was submitted (or resubmitted, replacing the previous one)."""

    kind: FilingKind
    filing: Filing

    def personal_parts(self) -> Sequence[PersonalPart]:
        """The people the filing names (`filings.filing_parts`), within this enterprise."""
        return filing_parts(self.filing, self.originator_id, ("filing",))

    @model_validator(mode="after")
    def _kind_matches(self) -> Self:
        if self.filing.kind != self.kind:
            raise ValueError("kind differs from the filing's kind")
        return self


@stored_as("WindowApproved")
class WindowApproved(DomainEvent):
    """The window approved the enrollment (窗口审批通过)."""

    window: Text


@stored_as("WindowRejected")
class WindowRejected(DomainEvent):
    """The window rejected the enrollment with a reason; the enterprise corrects and resubmits."""

    window: Text
    reason: Text


@stored_as("EnterpriseInfoChanged")
class EnterpriseInfoChanged(DomainEvent):
    """Name, business address or legal representative changed (变更), by the legal-person key."""

    change: EnterpriseChange
    legal_representative_changed: bool
    authorising_card_no: CardNumber

    def personal_parts(self) -> Sequence[PersonalPart]:
        """A new legal representative's name."""
        name = self.change.legal_representative
        if not isinstance(name, str):
            return ()
        subject = person_key(self.originator_id, "legal_representative", name)
        return [PersonalPart(("change", "legal_representative"), subject, (("name", name),))]


@stored_as("FreeKeyPairIssued")
class FreeKeyPairIssued(DomainEvent):
    """The two free keys of a new enrollment (法人卡 and 操作员卡) were issued."""

    legal_person_card_no: CardNumber
    operator_card_no: CardNumber
