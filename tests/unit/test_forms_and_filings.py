"""Forms, filings, region configuration and derived ids."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from domain.aggregate_ids import enterprise_id, key_id
from domain.filings import (
    CustomsFiling,
    Filing,
    FilingKind,
    ForexFiling,
    OperatorPreentryFiling,
    ThreeInOneFiling,
    ThreeInOneMaterials,
    check_codes,
)
from domain.forms import (
    CUSTOMS_PERMISSIONS,
    FOREX_PERMISSIONS,
    PERMISSION_CATALOGUE,
    SUPPLIER_LABELS,
    Authority,
    CustomsDeclarer,
    ExpressHandoverForm,
    IcCardRegistrationForm,
    IdType,
    KeyKind,
    LegalPersonHolder,
    MailingDetails,
    Media,
    OperatorHolder,
    Permission,
    Supplier,
    SupplierProduct,
)
from domain.identifier_generators import make_customs_code, make_uscc
from domain.region import GUANGDONG, HAINAN, REGIONS, RegionConfig, get_region
from tests.factories import (
    all_documents,
    mailing_details,
    refused,
    valid_express_form,
    valid_filings,
    valid_ic_card_form,
    valid_legal_person,
    valid_operator_holder,
)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20240301)


def _with(model: BaseModel, **changes: object) -> dict[str, Any]:
    return model.model_dump() | changes


def _error_locations(error: ValidationError) -> list[tuple[int | str, ...]]:
    return [tuple(detail["loc"]) for detail in error.errors()]


# -- region --------------------------------------------------------------------------------------


def test_hainan_codes_are_those_of_the_guide() -> None:
    assert get_region("hainan") is HAINAN
    assert HAINAN.business_registration_dept_code == "460000"
    assert HAINAN.commerce_authority_code == "4600"
    assert HAINAN.forex_bureau_code == "460000"
    assert HAINAN.province_prefix == "46"
    assert set(REGIONS) == {"hainan", "guangdong"}


def test_unknown_region_is_refused() -> None:
    with refused("unknown_region", "region"):
        get_region("atlantis")


def test_region_codes_must_belong_to_the_province() -> None:
    with pytest.raises(ValidationError, match="province prefix"):
        RegionConfig(**_with(HAINAN, business_registration_dept_code="440000"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("province_prefix", "4a"),
        ("business_registration_dept_code", "46000"),
        ("commerce_authority_code", "46000"),
        ("forex_bureau_code", "4600000"),
        ("postcode_prefix", "570"),
        ("area_code", "898"),
        ("code", "Hainan Province"),
        ("window_name", "  "),
    ],
)
def test_region_config_refuses_malformed_codes(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        RegionConfig(**_with(GUANGDONG, **{field: value}))


# -- ids -----------------------------------------------------------------------------------------


def test_ids_derive_from_natural_keys_that_are_not_personal_data() -> None:
    uscc = "91350100M000100Y43"
    assert enterprise_id(uscc) == enterprise_id(uscc) != key_id(uscc)


# -- permissions, suppliers ------------------------------------------------------------------------


def test_permission_catalogue_lists_the_fourteen_permissions_of_attachment_2() -> None:
    assert len(Permission) == len(PERMISSION_CATALOGUE) == 14
    assert len(CUSTOMS_PERMISSIONS) == 12
    assert {Permission.FOREX_RECEIPT_ENTRY, Permission.FOREX_RECEIPT_DECLARE} == FOREX_PERMISSIONS
    upload = PERMISSION_CATALOGUE[Permission.DECLARATION_UPLOAD]
    assert (upload.group_label, upload.label, upload.authority) == (
        "报关单",
        "上载",
        Authority.CUSTOMS,
    )
    assert PERMISSION_CATALOGUE[Permission.PAYMENT_SECOND_REVIEW].label == "支付复审"


def test_suppliers_are_the_three_of_attachment_5() -> None:
    assert len(Supplier) == len(SUPPLIER_LABELS) == 3
    assert SUPPLIER_LABELS[Supplier.AISINO].startswith("航天信息股份有限公司")
    assert SupplierProduct.SMART_KEY.media is Media.IKEY
    assert SupplierProduct.IC_CARD.media is Media.IC_CARD


# -- holders -------------------------------------------------------------------------------------


def test_a_bad_resident_id_number_is_refused(rng: random.Random) -> None:
    holder = valid_legal_person(rng)
    with pytest.raises(ValidationError, match="check character"):
        LegalPersonHolder(**_with(holder, id_number="110105194912310021"))


def test_a_resident_id_from_a_region_created_later_is_accepted(rng: random.Random) -> None:
    holder = valid_legal_person(rng)
    assert LegalPersonHolder(**_with(holder, id_number="460105198001010016")).id_number


def test_a_passport_number_is_normalised_to_upper_case(rng: random.Random) -> None:
    holder = valid_legal_person(rng)
    passport = LegalPersonHolder(**_with(holder, id_type=IdType.PASSPORT, id_number=" e1234567 "))
    assert passport.id_number == "E1234567"


@pytest.mark.parametrize("number", ["E-1234567", "A" * 31, "护照123"])
def test_a_malformed_foreign_document_number_is_refused(rng: random.Random, number: str) -> None:
    holder = valid_legal_person(rng)
    with pytest.raises(ValidationError):
        LegalPersonHolder(**_with(holder, id_type=IdType.HK_MACAO_PERMIT, id_number=number))


def test_operator_birth_date_must_match_the_resident_id(rng: random.Random) -> None:
    holder = valid_operator_holder(rng)
    with pytest.raises(ValidationError, match="birth_date differs"):
        OperatorHolder(**_with(holder, birth_date=date(1999, 1, 1)))


def test_a_passport_holder_gives_any_birth_date(rng: random.Random) -> None:
    holder = valid_operator_holder(rng)
    changes = {"id_type": IdType.PASSPORT, "id_number": "E1234567", "birth_date": date(1999, 1, 1)}
    assert OperatorHolder(**_with(holder, **changes)).birth_date == date(1999, 1, 1)


def test_text_is_stripped(rng: random.Random) -> None:
    assert LegalPersonHolder(**_with(valid_legal_person(rng), name="  王伟 ")).name == "王伟"


@pytest.mark.parametrize("name", ["", "   ", "王\n伟", "王\x00伟", "王" * 51])
def test_blank_overlong_or_control_character_text_is_refused(rng: random.Random, name: str) -> None:
    with pytest.raises(ValidationError):
        LegalPersonHolder(**_with(valid_legal_person(rng), name=name))


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-address"), ("postcode", "5703"), ("phone", "12345"), ("fax", "68516652")],
)
def test_operator_contact_details_are_checked(rng: random.Random, field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        OperatorHolder(**_with(valid_operator_holder(rng), **{field: value}))


def test_phone_numbers_are_stored_in_e164(rng: random.Random) -> None:
    holder = LegalPersonHolder(**_with(valid_legal_person(rng), phone="138 0013 8000"))
    assert holder.phone == "+8613800138000"


def test_declarer_registration_cannot_end_before_it_was_issued() -> None:
    with pytest.raises(ValidationError, match="before issue_date"):
        CustomsDeclarer(
            certificate_number="BG1",
            issue_date=date(2020, 1, 1),
            registration_valid_until=date(2019, 1, 1),
        )


def test_declarer_exam_score_is_bounded() -> None:
    with pytest.raises(ValidationError):
        CustomsDeclarer(certificate_number="BG1", exam_score=-1)


# -- IC-card form --------------------------------------------------------------------------------


def test_customs_permissions_must_be_asked_of_customs(rng: random.Random) -> None:
    with pytest.raises(ValidationError, match="not asked of customs"):
        valid_ic_card_form(rng, customs_permissions=frozenset({Permission.FOREX_RECEIPT_ENTRY}))


def test_forex_permissions_must_be_asked_of_the_forex_bureau(rng: random.Random) -> None:
    with pytest.raises(ValidationError, match="forex bureau"):
        valid_ic_card_form(rng, forex_permissions=frozenset({Permission.PAYMENT_VIEW}))


def test_permissions_serialise_in_a_stable_sorted_order(rng: random.Random) -> None:
    form = valid_ic_card_form(rng, customs_permissions=CUSTOMS_PERMISSIONS)
    dumped = form.model_dump(mode="json")["customs_permissions"]
    assert dumped == sorted(p.value for p in CUSTOMS_PERMISSIONS)
    assert IcCardRegistrationForm.model_validate_json(form.model_dump_json()) == form


# -- handover and mailing ------------------------------------------------------------------------


def test_mailing_details_list_the_card_of_each_kind(rng: random.Random) -> None:
    details = mailing_details(rng, "8000000000000001", "0000000000000002")
    assert details.card_no_for(KeyKind.LEGAL_PERSON) == "8000000000000001"
    assert details.card_no_for(KeyKind.OPERATOR) == "0000000000000002"


def test_mailing_details_refuse_the_same_card_twice(rng: random.Random) -> None:
    details = mailing_details(rng, "8000000000000001", "8000000000000002")
    with pytest.raises(ValidationError, match="same"):
        MailingDetails(**_with(details, operator_card_no="8000000000000001"))


def test_mailing_details_refuse_a_bad_ems_number(rng: random.Random) -> None:
    details = mailing_details(rng, "8000000000000001", "8000000000000002")
    with pytest.raises(ValidationError, match="check digit"):
        MailingDetails(**_with(details, ems_tracking_number="EA123456784CN"))


def test_express_handover_form_needs_a_valid_postcode(rng: random.Random) -> None:
    with pytest.raises(ValidationError):
        ExpressHandoverForm(**_with(valid_express_form(rng), postcode="57A105"))


def test_renewal_documents_name_what_is_missing() -> None:
    assert all_documents().missing() == []
    documents = all_documents(introduction_letter=False, clerk_id_card=False)
    assert documents.missing() == ["clerk_id_card", "introduction_letter"]


# -- filings -------------------------------------------------------------------------------------


@pytest.fixture
def filings(rng: random.Random) -> dict[FilingKind, Filing]:
    return valid_filings(make_uscc(rng), make_customs_code(rng), rng)


@pytest.mark.parametrize("missing", ["ic_card_registration_form", "express_handover_form"])
def test_three_in_one_without_an_uploaded_form_is_refused_naming_it(
    filings: dict[FilingKind, Filing], missing: str
) -> None:
    filing = filings[FilingKind.THREE_IN_ONE]
    assert isinstance(filing, ThreeInOneFiling)
    materials = filing.materials.model_dump()
    del materials[missing]
    with pytest.raises(ValidationError) as info:
        ThreeInOneMaterials(**materials)
    assert _error_locations(info.value) == [(missing,)]


def test_uploaded_materials_are_of_type_other(filings: dict[FilingKind, Filing]) -> None:
    filing = filings[FilingKind.THREE_IN_ONE]
    assert isinstance(filing, ThreeInOneFiling)
    assert filing.materials.upload_type == "other"


def test_filings_round_trip_through_the_discriminated_union(
    filings: dict[FilingKind, Filing],
) -> None:
    adapter: TypeAdapter[Filing] = TypeAdapter(Filing)
    for kind, filing in filings.items():
        parsed = adapter.validate_json(adapter.dump_json(filing))
        assert parsed == filing
        assert parsed.kind is kind


def test_a_filing_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Filing).validate_python({"kind": "tax", "company_name": "x"})


def test_customs_filing_needs_the_receipt_number_or_date(rng: random.Random) -> None:
    code = make_customs_code(rng)
    with pytest.raises(ValidationError, match="receipt"):
        CustomsFiling(customs_code=code, company_name="海南示例贸易有限公司")
    assert CustomsFiling(customs_code=code, company_name="某公司", receipt_date=date(2024, 1, 1))


def test_operator_preentry_needs_at_least_one_operator() -> None:
    with pytest.raises(ValidationError):
        OperatorPreentryFiling(operators=())


def test_operator_preentry_lists_each_person_once(rng: random.Random) -> None:
    operator = valid_operator_holder(rng)
    with pytest.raises(ValidationError, match="twice"):
        OperatorPreentryFiling(operators=(operator, operator))


class _Registered:
    def __init__(self, customs_code: str) -> None:
        self.customs_code = customs_code


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        (FilingKind.THREE_IN_ONE, "business_registration_dept_code", "440000"),
        (FilingKind.THREE_IN_ONE, "commerce_authority_code", "4400"),
        (FilingKind.FOREX, "forex_bureau_code", "460100"),
    ],
)
def test_check_codes_refuses_another_departments_code(
    filings: dict[FilingKind, Filing], kind: FilingKind, field: str, value: str
) -> None:
    customs = filings[FilingKind.CUSTOMS]
    assert isinstance(customs, CustomsFiling)
    wrong = type(filings[kind])(**_with(filings[kind], **{field: value}))
    with refused("wrong_department_code", field):
        check_codes(wrong, HAINAN, _Registered(customs.customs_code))


def test_check_codes_refuses_a_customs_code_not_registered(
    filings: dict[FilingKind, Filing], rng: random.Random
) -> None:
    with refused("customs_code_mismatch", "customs_code"):
        check_codes(filings[FilingKind.CUSTOMS], HAINAN, _Registered(make_customs_code(rng)))


def test_check_codes_accepts_each_regions_own_codes(rng: random.Random) -> None:
    code = make_customs_code(rng, province="44")
    for filing in valid_filings(make_uscc(rng, "4401"), code, rng, GUANGDONG).values():
        check_codes(filing, GUANGDONG, _Registered(code))
    hainan_forex = ForexFiling(forex_bureau_code="460000", company_name="某公司")
    with refused("wrong_department_code", "forex_bureau_code"):
        check_codes(hainan_forex, GUANGDONG, _Registered(code))
