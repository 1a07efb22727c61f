"""The four electronic filings of 企业备案 and the check of their department codes."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Final, Literal, Protocol, Self
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain.base import DomainError, Immutable
from domain.forms import (
    Address,
    Code,
    CompanyName,
    ExpressHandoverForm,
    HandoverPart,
    IcCardRegistrationForm,
    KeyKind,
    Name,
    OperatorHolder,
    OperatorPart,
    form_parts,
    holder_found_by,
)
from domain.identifiers import CustomsCode
from domain.personal import PersonalPart, Sealed, person_key, personal
from domain.region import RegionConfig


class FilingKind(StrEnum):
    """The four filings under the 企业备案 menu of the identity-authentication system."""

    THREE_IN_ONE = "three_in_one"
    CUSTOMS = "customs"
    FOREX = "forex"
    OPERATOR_PREENTRY = "operator_preentry"


FILING_KIND_LABELS: Final = {
    FilingKind.THREE_IN_ONE: "三证合一信息管理",
    FilingKind.CUSTOMS: "企业海关备案申请",
    FilingKind.FOREX: "企业外汇备案申请",
    FilingKind.OPERATOR_PREENTRY: "企业操作员预录入",
}

DeptCode6 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]
DeptCode4 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{4}$")]


def field_error(loc: str | tuple[str | int, ...], message: str) -> ValidationError:
    """A model rule's error reported at the field it is about (not at the model)."""
    where = (loc,) if isinstance(loc, str) else loc
    error = PydanticCustomError("value_error", "Value error, {reason}", {"reason": message})
    return ValidationError.from_exception_data(
        "filing", [InitErrorDetails(type=error, loc=where, input=None)]
    )


def _at_least_one(operators: tuple[OperatorPart, ...]) -> tuple[OperatorPart, ...]:
    if not operators:
        raise ValueError("give at least one operator")
    return operators


class ThreeInOneMaterials(Immutable):
    """The two scanned forms uploaded with the three-in-one filing, as material type 其他."""

    upload_type: Literal["other"] = "other"
    ic_card_registration_form: IcCardRegistrationForm
    express_handover_form: HandoverPart


class ThreeInOneFiling(Immutable):
    """三证合一信息管理: the business-registration data and the two uploaded forms."""

    kind: Literal[FilingKind.THREE_IN_ONE] = FilingKind.THREE_IN_ONE
    company_name: CompanyName
    legal_representative: Annotated[str | Sealed, personal(Name)]
    business_address: Address
    business_registration_dept_code: DeptCode6
    commerce_authority_code: DeptCode4
    materials: ThreeInOneMaterials


class CustomsFiling(Immutable):
    """企业海关备案申请: the customs registration, with its receipt number or date."""

    kind: Literal[FilingKind.CUSTOMS] = FilingKind.CUSTOMS
    customs_code: CustomsCode
    company_name: CompanyName
    receipt_number: Code | None = None
    receipt_date: date | None = None

    @model_validator(mode="after")
    def _receipt_is_identified(self) -> Self:
        if self.receipt_number is None and self.receipt_date is None:
            raise field_error(
                "receipt_number", "give the registration receipt's number or its date (备案回执)"
            )
        return self


class ForexFiling(Immutable):
    """企业外汇备案申请."""

    kind: Literal[FilingKind.FOREX] = FilingKind.FOREX
    forex_bureau_code: DeptCode6
    company_name: CompanyName


class OperatorPreentryFiling(Immutable):
    """企业操作员预录入: the operators to be enrolled."""

    kind: Literal[FilingKind.OPERATOR_PREENTRY] = FilingKind.OPERATOR_PREENTRY
    operators: Annotated[
        tuple[OperatorPart, ...],
        AfterValidator(_at_least_one),  # after the items: a bad one is its only error
        Field(json_schema_extra={"minItems": 1}),
    ]

    @model_validator(mode="after")
    def _each_person_once(self) -> Self:
        seen: set[str] = set()
        for number, operator in enumerate(self.operators):
            if isinstance(operator, OperatorHolder):
                if operator.id_number in seen:
                    raise field_error(
                        ("operators", number, "id_number"),
                        "an operator appears twice (same ID number)",
                    )
                seen.add(operator.id_number)
        return self


Filing = Annotated[
    ThreeInOneFiling | CustomsFiling | ForexFiling | OperatorPreentryFiling,
    Field(discriminator="kind"),
]


class HasCustomsCode(Protocol):
    """Anything that knows the enterprise's registered customs code (an Enterprise)."""

    @property
    def customs_code(self) -> str:
        """The 海关编码 on the enterprise's registration receipt."""
        ...


def _same(field: str, given: str, expected: str, what: str) -> None:
    if given != expected:
        raise DomainError(
            "wrong_department_code",
            f"{what} is {given!r}; this region's is {expected!r}",
            field=field,
        )


def check_codes(filing: Filing, region: RegionConfig, enterprise: HasCustomsCode) -> None:
    """Refuse a filing whose department codes are not the region's or whose customs code differs."""
    if isinstance(filing, ThreeInOneFiling):
        _same(
            "business_registration_dept_code",
            filing.business_registration_dept_code,
            region.business_registration_dept_code,
            "工商审核单位代码",
        )
        _same(
            "commerce_authority_code",
            filing.commerce_authority_code,
            region.commerce_authority_code,
            "商务部主管机关代码",
        )
    elif isinstance(filing, ForexFiling):
        _same(
            "forex_bureau_code",
            filing.forex_bureau_code,
            region.forex_bureau_code,
            "主管外汇局代码",
        )
    elif isinstance(filing, CustomsFiling) and filing.customs_code != enterprise.customs_code:
        raise DomainError(
            "customs_code_mismatch",
            f"the filing's customs code {filing.customs_code} is not the registered "
            f"{enterprise.customs_code}",
            field="customs_code",
        )


def filing_parts(filing: Filing, scope: UUID, path: tuple[str | int, ...]) -> list[PersonalPart]:
    """The people a filing names: the legal representative, the IC-card form's two holders, the
    parcel's recipient (three-in-one), the operators to enrol (pre-entry)."""
    parts: list[PersonalPart] = []
    if isinstance(filing, ThreeInOneFiling):
        representative = filing.legal_representative
        if isinstance(representative, str):
            subject = person_key(scope, "legal_representative", representative)
            parts.append(
                PersonalPart((*path, "legal_representative"), subject, (("name", representative),))
            )
        materials = (*path, "materials")
        form = filing.materials.ic_card_registration_form
        parts += form_parts(form, scope, (*materials, "ic_card_registration_form"))
        handover = filing.materials.express_handover_form
        if isinstance(handover, ExpressHandoverForm):
            name, phone = handover.recipient_name, handover.recipient_phone
            subject = person_key(scope, "recipient", name, phone)
            recipient = (("name", name), ("phone", phone))
            parts.append(PersonalPart((*materials, "express_handover_form"), subject, recipient))
    elif isinstance(filing, OperatorPreentryFiling):
        for number, operator in enumerate(filing.operators):
            if isinstance(operator, OperatorHolder):
                subject = person_key(scope, KeyKind.OPERATOR.value, operator.id_number)
                parts.append(
                    PersonalPart((*path, "operators", number), subject, holder_found_by(operator))
                )
    return parts
