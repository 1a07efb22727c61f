"""Requests of a key's life: issue, EMS mailing, PIN, renewal, loss, freeze, void, replacement."""

from __future__ import annotations

from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import Field
from typing_extensions import TypeAliasType

from api.http.schemas import examples
from api.http.schemas.common import Request, untagged, with_examples
from domain.forms import MailingDetails, Media, RenewalDocuments, Supplier, SupplierProduct, Text
from domain.identifiers import CardNumber, CertificateNumber, Uscc
from domain.ukey.events import ApplicationId, DeliveryChannel

_ISSUED_TO: Final = frozenset({"source", "uscc"})
"""The union's tag, and the enterprise an issue is for: the decider takes it first."""


class IssueFreePair(Request):
    """The window issues the two free keys (法人卡, 操作员卡) of an approved enrollment, once."""

    source: Literal["free_pair"]
    uscc: Uscc
    legal_person_card_no: CardNumber
    operator_card_no: CardNumber
    legal_person_media: Media = Field(
        default=Media.IKEY, description="the operator key's medium is the one the form asked for"
    )
    legal_person_certificate_number: CertificateNumber | None = None
    operator_certificate_number: CertificateNumber | None = None

    passed_otherwise = _ISSUED_TO


class IssueBoughtKey(Request):
    """A key the enterprise bought from a listed supplier (附件5) for one of its card holders."""

    source: Literal["supplier"]
    uscc: Uscc
    card_no: CardNumber
    holder_id: UUID = Field(description="the card holder's id (from POST …/operators)")
    supplier: Supplier
    product: SupplierProduct
    certificate_number: CertificateNumber | None = None

    passed_otherwise = _ISSUED_TO


IssueKeyKinds = TypeAliasType(
    "IssueKeyKinds", Annotated[IssueFreePair | IssueBoughtKey, Field(discriminator="source")]
)
"""The two ways a key comes into the ledger, told apart by `source` (an alias: FastAPI keeps
the discriminator on the union, and `untagged` around it)."""
IssueKey = Annotated[
    IssueKeyKinds,
    untagged("source"),
    Field(
        examples=[
            {
                "source": "free_pair",
                "uscc": examples.USCC,
                "legal_person_card_no": examples.LP_CARD,
                "operator_card_no": examples.OP_CARD,
            },
            {
                "source": "supplier",
                "uscc": examples.USCC,
                "card_no": examples.BOUGHT_CARD,
                "holder_id": "0d3e3f6e-3b8e-5b53-8f7a-2f0d1f3c9a10",
                "supplier": "aisino",
                "product": "smart_key",
            },
        ],
    ),
]


class MailKey(MailingDetails):
    """The EMS handover form (快递交接单, 1式3份) as the window completes it: one parcel, the
    enterprise's free legal-person and operator cards, one EMS tracking number."""

    model_config = with_examples(examples.MAILING)

    def details(self) -> MailingDetails:
        """The domain's value object."""
        return MailingDetails.model_validate(self.model_dump())


class Delivery(Request):
    """How a free key reached its holder: its EMS parcel arrived, or the window handed it over."""

    model_config = with_examples({"channel": "ems"})

    channel: DeliveryChannel = Field(
        default=DeliveryChannel.EMS,
        description="ems (the parcel arrived), or window (handed over in person: window staff)",
    )


class PinAttempt(Request):
    """One PIN entry: right or wrong (the PIN itself never reaches the ledger)."""

    model_config = with_examples({"ok": False}, {"ok": True})

    ok: bool


class Renew(Request):
    """Renewal in person at the window with the four documents, after pre-approval."""

    model_config = with_examples(
        {
            "application_id": f"{examples.LP_CARD}-R1",
            "documents": examples.DOCUMENTS,
            "certificate_number": "03000000000cde6f",
        }
    )

    application_id: ApplicationId
    documents: RenewalDocuments
    certificate_number: CertificateNumber | None = None


class Incident(Request):
    """Why: a loss report (挂失), a freeze (冻结), or lifting a freeze (解冻)."""

    model_config = with_examples({"reason": "钥匙遗失"})

    reason: Text


class Void(Request):
    """Void a key (作废), e.g. when its holder withdraws consent."""

    model_config = with_examples(
        {"reason": "持卡人撤回同意，申请作废", "erase_personal_data": True}
    )

    reason: Text
    erase_personal_data: bool = False


class Replace(Request):
    """Replace a lost, frozen or faulty key with a bought one (补办)."""

    model_config = with_examples(
        {
            "new_card_no": examples.REPLACEMENT_CARD,
            "reason": "遗失补办",
            "supplier": "beijing_tongfang",
            "product": "smart_key",
        }
    )

    new_card_no: CardNumber
    reason: Text
    supplier: Supplier
    product: SupplierProduct
    certificate_number: CertificateNumber | None = None
