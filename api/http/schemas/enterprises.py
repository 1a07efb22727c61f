"""Requests of enrollment: registration, review, card holders, permissions, information changes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from typing_extensions import TypeAliasType

from api.http.schemas import examples
from api.http.schemas.common import Request, untagged, with_examples
from domain.enterprise.events import EnterpriseChange
from domain.forms import (
    NO_CONTROL,
    Address,
    CompanyName,
    CustomsDeclarer,
    KeyKind,
    LegalPersonHolder,
    Name,
    OperatorHolder,
    PermissionSet,
    Text,
    VerificationOfficer,
)
from domain.identifiers import CardNumber, Uscc

ReceiptText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NO_CONTROL]
"""What the customs registration receipt (海关进出口收发货人备案回执) gives: checked by the rule
that needs it, so a missing or blank one is refused as `customs_receipt_required` and a
malformed customs code as `invalid_customs_code`, naming the field."""


class RegisterEnterprise(Request):
    """Register an enterprise that holds its customs registration receipt (海关备案回执)."""

    model_config = with_examples(
        {
            "uscc": examples.USCC,
            "name": examples.COMPANY,
            "customs_code": examples.CUSTOMS_CODE,
            "receipt_number": examples.RECEIPT_NUMBER,
        }
    )

    uscc: Uscc
    name: CompanyName
    customs_code: ReceiptText | None = Field(
        default=None,
        description="海关编码 on the receipt (required: without it, customs_receipt_required)",
        examples=[examples.CUSTOMS_CODE],
    )
    receipt_number: ReceiptText | None = Field(
        default=None,
        description="the receipt's number (required: without it, customs_receipt_required)",
        examples=[examples.RECEIPT_NUMBER],
    )


class Approve(Request):
    """The window approves the four filings."""

    decision: Literal["approve"]
    window: Text | None = Field(default=None, description="default: the region's window")


class Reject(Request):
    """The window rejects the filings with a reason; the enterprise corrects and resubmits."""

    decision: Literal["reject"]
    reason: Text
    window: Text | None = Field(default=None, description="default: the region's window")


ReviewKinds = TypeAliasType(
    "ReviewKinds", Annotated[Approve | Reject, Field(discriminator="decision")]
)
Review = Annotated[
    ReviewKinds,
    untagged("decision"),
    Field(
        examples=[
            {"decision": "approve"},
            {"decision": "reject", "reason": "附件3 收件人联系电话无法接通，请核实"},
        ],
    ),
]


class RegisterOperator(Request):
    """Add an operator card holder, authorised by the enterprise's legal-person key."""

    model_config = with_examples(
        {
            "holder_kind": "operator",
            "holder": examples.OPERATOR,
            "authorising_card_no": examples.LP_CARD,
        }
    )

    holder_kind: Literal[KeyKind.OPERATOR]
    holder: OperatorHolder
    customs_declarer: CustomsDeclarer | None = None
    verification_officer: VerificationOfficer | None = None
    authorising_card_no: CardNumber | None = Field(
        default=None, description="the active legal-person key (window staff may omit it)"
    )


class RegisterLegalPerson(Request):
    """Add a legal-person card holder (e.g. after a change of legal representative)."""

    holder_kind: Literal[KeyKind.LEGAL_PERSON]
    holder: LegalPersonHolder
    authorising_card_no: CardNumber | None = Field(
        default=None, description="the active legal-person key (window staff may omit it)"
    )


CardHolderKinds = TypeAliasType(
    "CardHolderKinds",
    Annotated[RegisterOperator | RegisterLegalPerson, Field(discriminator="holder_kind")],
)
CardHolder = Annotated[CardHolderKinds, untagged("holder_kind")]


class SetPermissions(Request):
    """The operator's permissions become exactly these (业务授权)."""

    model_config = with_examples(
        {
            "permissions": ["declaration.upload", "payment.view"],
            "authorising_card_no": examples.LP_CARD,
        }
    )

    permissions: PermissionSet
    authorising_card_no: CardNumber | None = Field(
        default=None, description="the active legal-person key (window staff may omit it)"
    )


class ChangeEnterprise(Request):
    """Change name, business address or legal representative (变更), by the legal-person key."""

    model_config = with_examples(
        {
            "business_address": "海南省海口市龙华区滨海大道88号",
            "authorising_card_no": examples.LP_CARD,
        }
    )

    name: CompanyName | None = None
    business_address: Address | None = None
    legal_representative: Name | None = None
    authorising_card_no: CardNumber = Field(description="the enterprise's active legal-person key")

    def change(self) -> EnterpriseChange:
        """The domain's change (at least one field, or a 422)."""
        return EnterpriseChange(
            name=self.name,
            business_address=self.business_address,
            legal_representative=self.legal_representative,
        )
