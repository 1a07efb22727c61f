"""Value objects of the paper forms: the IC-card registration form (附件2), EMS handover (附件3)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Annotated, Final
from uuid import UUID

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from domain.base import Immutable
from domain.identifiers import (
    CardNumber,
    EmsTrackingNumber,
    PhoneNumber,
    Postcode,
    birth_date_of,
    check_resident_id,
)
from domain.permissions import (
    CUSTOMS_PERMISSIONS as CUSTOMS_PERMISSIONS,
    FOREX_PERMISSIONS as FOREX_PERMISSIONS,
    PERMISSION_CATALOGUE as PERMISSION_CATALOGUE,
    Authority as Authority,
    Permission as Permission,
    PermissionInfo as PermissionInfo,
    PermissionSet as PermissionSet,
    sorted_values,
)
from domain.personal import STORED, PersonalPart, Sealed, person_key, personal

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_FOREIGN_ID: Final = re.compile(r"[A-Z0-9]{1,30}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CODE: Final = re.compile(r"[A-Za-z0-9-]+")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("text must not contain control characters or line breaks")
    return value


def _sent(info: ValidationInfo) -> bool:
    """Whether the value comes from a client (checked), not from the ledger (read as stored:
    a rule added later must not make what was stored before it unreadable)."""
    return not (info.context or {}).get(STORED)


def _no_control_sent(value: str, info: ValidationInfo) -> str:
    return _no_control(value) if _sent(info) else value


def _visible(value: str, info: ValidationInfo) -> str:
    """Refuse format characters in a name: bidirectional controls (U+202E …) and zero-width
    characters (U+200B …) make a name read other than it is, or two names look alike."""
    if _sent(info):
        for position, char in enumerate(value, start=1):
            if unicodedata.category(char) == "Cf":
                raise ValueError(
                    f"a name must not contain invisible or bidirectional characters "
                    f"(U+{ord(char):04X} at position {position})"
                )
    return value


def _email(value: str, info: ValidationInfo) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return _no_control_sent(value, info)


def _code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise ValueError(f"{value!r} may hold only letters, digits and '-'")
    return value.upper()


def _strip(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


_clean = AfterValidator(_no_control)
NO_CONTROL: Final = _clean
"""Refuses control characters and line breaks (for text types made elsewhere)."""
_seen = AfterValidator(_visible)
Name = Annotated[str, _strip(50), _clean, _seen]
"""A person's name (or a signatory's): no control, bidirectional or zero-width characters."""
Text = Annotated[str, _strip(100), _clean]
CompanyName = Annotated[str, _strip(100), _clean, _seen]
"""An enterprise's name (企业名称), held to the rules of a person's name."""
SearchText = Annotated[str, _strip(100, 2), _clean]
"""A part of a name to search by (at least two characters)."""
Address = Annotated[str, _strip(200), _clean]
Remarks = Annotated[str, _strip(500), _clean]
Code = Annotated[str, _strip(30), AfterValidator(_code)]
IdNumber = Annotated[str, _strip(30), _clean, AfterValidator(str.upper)]
Email = Annotated[str, _strip(254, 3), AfterValidator(_email)]


class Gender(StrEnum):
    """性别."""

    MALE = "male"
    FEMALE = "female"


class IdType(StrEnum):
    """证件类别: the kind of identity document a holder shows."""

    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    OTHER = "other"


ID_TYPE_LABELS: Final = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.PASSPORT: "护照",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.OTHER: "其他",
}


def check_id_number(id_type: IdType, id_number: str) -> str:
    """Return the normalised document number for its type, or raise ValueError."""
    number = id_number.strip().upper()
    if id_type is IdType.RESIDENT_ID:
        return check_resident_id(number)
    if not _FOREIGN_ID.fullmatch(number):
        raise ValueError(f"a {id_type.value} number is 1-30 of A-Z and 0-9, got {number!r}")
    return number


class Media(StrEnum):
    """The medium of a key: an IC card or a USB IKEY."""

    IC_CARD = "ic_card"
    IKEY = "ikey"


class KeyKind(StrEnum):
    """法人卡 (manages the enterprise) or 操作员卡 (does the business)."""

    LEGAL_PERSON = "legal_person"
    OPERATOR = "operator"


MEDIA_LABELS: Final = {Media.IC_CARD: "IC卡", Media.IKEY: "IKEY"}
KEY_KIND_LABELS: Final = {KeyKind.LEGAL_PERSON: "法人卡", KeyKind.OPERATOR: "操作员卡"}


def _id_number_of_its_type(value: str, info: ValidationInfo) -> str:
    """The ID number checked for the ID type given before it (at the id_number field's own
    path; when the type itself is wrong, only the type is reported)."""
    id_type = info.data.get("id_type")
    return value if id_type is None else check_id_number(id_type, value)


def _birth_date_of_the_id(value: date, info: ValidationInfo) -> date:
    """A resident ID encodes the birth date: the form's must be the same (at birth_date)."""
    id_type, id_number = info.data.get("id_type"), info.data.get("id_number")
    if id_type is IdType.RESIDENT_ID and id_number and birth_date_of(id_number) != value:
        raise ValueError(
            f"birth_date differs from the birth date in the resident ID number "
            f"({birth_date_of(id_number).isoformat()})"
        )
    return value


class LegalPersonHolder(Immutable):
    """法人卡持卡人基本信息 (attachment 2)."""

    name: Name
    gender: Gender
    nationality: Text
    position: Text
    phone: PhoneNumber
    id_type: IdType
    id_number: IdNumber

    _id_number_fits_its_type = field_validator("id_number")(_id_number_of_its_type)


class OperatorHolder(Immutable):
    """操作员卡持卡人基本信息 (attachment 2)."""

    media: Media
    name: Name
    gender: Gender
    education: Text
    id_type: IdType
    id_number: IdNumber
    birth_date: date
    nationality: Text
    position: Text
    household_address: Address
    user_address: Address
    postcode: Postcode
    email: Email
    phone: PhoneNumber
    fax: PhoneNumber | None = None

    _id_number_fits_its_type = field_validator("id_number")(_id_number_of_its_type)
    _birth_date_agrees = field_validator("birth_date")(_birth_date_of_the_id)


class CustomsDeclarer(Immutable):
    """报关员备案信息: the operator's customs-declarer filing."""

    certificate_number: Code
    exam_score: Annotated[int, Field(ge=0, le=1000)] | None = None
    barcode: Code | None = None
    declaration_category: Text | None = None
    issue_date: date | None = None
    registration_valid_until: date | None = None
    remarks: Remarks | None = None

    @field_validator("registration_valid_until")
    @classmethod
    def _dates_in_order(cls, until: date | None, info: ValidationInfo) -> date | None:
        issued = info.data.get("issue_date")
        if until is not None and issued is not None and until < issued:
            raise ValueError("registration_valid_until is before issue_date")
        return until


class VerificationOfficer(Immutable):
    """核销员备案信息."""

    certificate_number: Code
    remarks: Remarks | None = None


LegalPersonPart = Annotated[LegalPersonHolder | Sealed, personal(LegalPersonHolder)]
"""The legal person's data: as sent, or sealed under their key once in the ledger."""
OperatorPart = Annotated[OperatorHolder | Sealed, personal(OperatorHolder)]
"""An operator's data: as sent, or sealed under their key once in the ledger."""
DeclarerPart = Annotated[CustomsDeclarer | Sealed, personal(CustomsDeclarer)]
"""The operator's customs-declarer filing (about the operator: sealed under their key)."""
OfficerPart = Annotated[VerificationOfficer | Sealed, personal(VerificationOfficer)]
"""The operator's verification-officer filing (sealed under the operator's key)."""


class IcCardRegistrationForm(Immutable):
    """中国电子口岸企业IC卡登记表 (attachment 2), sealed by the applying unit."""

    legal_person: LegalPersonPart
    operator: OperatorPart
    customs_declarer: DeclarerPart | None = None
    customs_permissions: PermissionSet = frozenset()
    verification_officer: OfficerPart | None = None
    forex_permissions: PermissionSet = frozenset()
    seal_date: date

    @field_validator("customs_permissions")
    @classmethod
    def _asked_of_customs(cls, permissions: frozenset[Permission]) -> frozenset[Permission]:
        if wrong := permissions - CUSTOMS_PERMISSIONS:
            raise ValueError(f"not asked of customs: {', '.join(sorted_values(wrong))}")
        return permissions

    @field_validator("forex_permissions")
    @classmethod
    def _asked_of_the_forex_bureau(
        cls, permissions: frozenset[Permission]
    ) -> frozenset[Permission]:
        if wrong := permissions - FOREX_PERMISSIONS:
            raise ValueError(f"not asked of the forex bureau: {', '.join(sorted_values(wrong))}")
        return permissions


class ExpressHandoverForm(Immutable):
    """The applicant's part of the EMS handover form (attachment 3, 以下由申请人填写)."""

    company_name: CompanyName
    recipient_address: Address
    postcode: Postcode
    recipient_name: Name
    recipient_phone: PhoneNumber


class Signature(Immutable):
    """A signature with its date on the handover form."""

    name: Name
    date: dt.date


HandoverPart = Annotated[ExpressHandoverForm | Sealed, personal(ExpressHandoverForm)]
"""The applicant's part of the handover form (its recipient is a person: sealed once stored)."""
SignaturePart = Annotated[Signature | Sealed, personal(Signature)]
"""A signature on the handover form (a person's name: sealed under the signatory's key)."""


class MailingDetails(Immutable):
    """The handover form as the window completes it when the keys go to EMS (1式3份)."""

    case_number: Code
    order_number: Code
    ems_tracking_number: EmsTrackingNumber
    legal_person_card_no: CardNumber
    operator_card_no: CardNumber
    company_name: CompanyName
    recipient_address: Annotated[str | Sealed, personal(Address)]
    postcode: Annotated[str | Sealed, personal(Postcode)]
    recipient_name: Annotated[str | Sealed, personal(Name)]
    recipient_phone: Annotated[str | Sealed, personal(PhoneNumber)]
    approver: SignaturePart
    express_window_clerk: SignaturePart
    postal_clerk: SignaturePart

    @field_validator("operator_card_no")
    @classmethod
    def _two_different_cards(cls, operator_card_no: str, info: ValidationInfo) -> str:
        if operator_card_no == info.data.get("legal_person_card_no"):
            raise ValueError("the legal-person and operator card numbers are the same")
        return operator_card_no

    def card_no_for(self, kind: KeyKind) -> str:
        """The card number the form lists for a key of this kind."""
        if kind is KeyKind.LEGAL_PERSON:
            return self.legal_person_card_no
        return self.operator_card_no


class RenewalDocuments(Immutable):
    """What the clerk brings to the window for a certificate renewal (证书更新)."""

    business_licence_original: bool
    clerk_id_card: bool
    introduction_letter: bool
    key_presented: bool

    def missing(self) -> list[str]:
        """The names of the documents not presented, in form order."""
        return [name for name, shown in self.model_dump().items() if not shown]


RENEWAL_DOCUMENT_LABELS: Final = {
    "business_licence_original": "《工商营业执照》原件",
    "clerk_id_card": "经办人身份证",
    "introduction_letter": "介绍信",
    "key_presented": "法人Ukey",
}


class Supplier(StrEnum):
    """电子口岸客户端安全产品供应商 (attachment 5)."""

    GUANGDONG_NANFANG = "guangdong_nanfang"
    BEIJING_TONGFANG = "beijing_tongfang"
    AISINO = "aisino"


SUPPLIER_LABELS: Final = {
    Supplier.GUANGDONG_NANFANG: "广东南方信息安全产业基地有限公司",
    Supplier.BEIJING_TONGFANG: "北京同方信息安全技术股份有限公司（清控高科（北京）科技有限公司）",
    Supplier.AISINO: "航天信息股份有限公司（深圳航天信息有限公司）",
}


class SupplierProduct(StrEnum):
    """客户端安全产品: what every listed supplier sells."""

    SMART_KEY = "smart_key"
    IC_CARD = "ic_card"

    @property
    def media(self) -> Media:
        """The key medium this product is."""
        return Media.IKEY if self is SupplierProduct.SMART_KEY else Media.IC_CARD


SUPPLIER_PRODUCT_LABELS: Final = {
    SupplierProduct.SMART_KEY: "智能密码钥匙",
    SupplierProduct.IC_CARD: "智能IC卡",
}


SIGNATORIES: Final = UUID(int=0)
"""The scope of signatories on handover forms: staff and postal clerks, across enterprises."""
MAILING_RECIPIENT_FIELDS: Final = (
    "recipient_address",
    "postcode",
    "recipient_name",
    "recipient_phone",
)
MAILING_SIGNATURES: Final = ("approver", "express_window_clerk", "postal_clerk")


def mailing_parts(
    details: MailingDetails, scope: UUID, path: tuple[str | int, ...]
) -> list[PersonalPart]:
    """The people on a completed handover form: its recipient, and the three signatories."""
    parts: list[PersonalPart] = []
    name, phone = details.recipient_name, details.recipient_phone
    if isinstance(name, str) and isinstance(phone, str):  # sealed ones are sealed already
        recipient = person_key(scope, "recipient", name, phone)
        found_by = (("name", name), ("phone", phone))
        parts += [
            PersonalPart((*path, field), recipient, found_by if field == "recipient_name" else ())
            for field in MAILING_RECIPIENT_FIELDS
        ]
    for field in MAILING_SIGNATURES:
        signature = getattr(details, field)
        if isinstance(signature, Signature):
            signatory = person_key(SIGNATORIES, "signatory", signature.name)
            parts.append(PersonalPart((*path, field), signatory, (("name", signature.name),)))
    return parts


def form_parts(
    form: IcCardRegistrationForm, scope: UUID, path: tuple[str | int, ...]
) -> list[PersonalPart]:
    """The people on an IC-card registration form: the legal person and the operator (whose
    subjects are the card holders the approval registers)."""
    parts: list[PersonalPart] = []
    if isinstance(form.legal_person, LegalPersonHolder):
        holder = form.legal_person
        subject = person_key(scope, KeyKind.LEGAL_PERSON.value, holder.id_number)
        parts.append(PersonalPart((*path, "legal_person"), subject, holder_found_by(holder)))
    if isinstance(form.operator, OperatorHolder):
        subject = person_key(scope, KeyKind.OPERATOR.value, form.operator.id_number)
        parts.append(PersonalPart((*path, "operator"), subject, holder_found_by(form.operator)))
        for field in ("customs_declarer", "verification_officer"):
            if getattr(form, field) is not None:
                parts.append(PersonalPart((*path, field), subject))
    return parts


def holder_found_by(
    holder: LegalPersonHolder | OperatorHolder,
) -> tuple[tuple[str, str], ...]:
    """What a caller may find a card holder by: ID number, phone, name."""
    return (("id_number", holder.id_number), ("phone", holder.phone), ("name", holder.name))
