"""Identifier validators: the examples of docs/domain.md, the error messages, masks and fuzzing."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import pytest
import stdnum.cn.ric
import stdnum.cn.uscc
from hypothesis import given, strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from domain.identifier_generators import (
    make_card_number,
    make_certificate_number,
    make_customs_code,
    make_mobile,
    make_resident_id,
    make_s10,
    make_uscc,
)
from domain.identifiers import (
    USCC_ALPHABET,
    CardNumber,
    CertificateNumber,
    CustomsCode,
    EmsTrackingNumber,
    PhoneNumber,
    Postcode,
    ResidentId,
    Uscc,
    birth_date_of,
    check_card_number,
    check_certificate_number,
    check_customs_code,
    check_ems_tracking_number,
    check_phone,
    check_postcode,
    check_resident_id,
    check_uscc,
    customs_code_province,
    mask_id_number,
    mask_phone,
    organisation_code_check_char,
    organisation_code_warning,
    resident_id_check_char,
    s10_check_digit,
    uscc_check_char,
)
from domain.personal import STORED

VALID_USCCS = [
    "91350100M000100Y43",
    "91110000600037341L",
    "9144030071526726XG",
    "121200004013590816",
    "N2460100MA5TNFGY9D",
]
HAIKOU_XIUYING_ID = "460105198001010016"


# Independent, deliberately plain reference implementations.


def reference_uscc_check(body: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = 0
    weight = 1
    for char in body:
        total += alphabet.index(char) * weight
        weight = weight * 3 % 31
    return alphabet[(31 - total % 31) % 31]


def reference_org_check(body: str) -> str:
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    total = 0
    for char, weight in zip(body, weights, strict=True):
        value = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(char)
        total += value * weight
    c = 11 - total % 11
    if c == 10:
        return "X"
    if c == 11:
        return "0"
    return str(c)


def reference_s10_check(serial: str) -> int:
    weights = [8, 6, 4, 2, 3, 5, 9, 7]
    c = 11 - sum(int(serial[i]) * weights[i] for i in range(8)) % 11
    if c == 10:
        return 0
    if c == 11:
        return 5
    return c


def with_uscc_check(body: str) -> str:
    return body + reference_uscc_check(body)


# USCC


@pytest.mark.parametrize("code", VALID_USCCS)
def test_domain_examples_of_uscc_are_accepted(code: str) -> None:
    assert check_uscc(code) == code


def test_letter_first_uscc_is_accepted_although_stdnum_rejects_it() -> None:
    assert not stdnum.cn.uscc.is_valid("N2460100MA5TNFGY9D")
    assert check_uscc("N2460100MA5TNFGY9D") == "N2460100MA5TNFGY9D"


def test_uscc_with_wrong_check_character_is_rejected_naming_the_expected_one() -> None:
    with pytest.raises(ValueError, match="check character is 'Z', expected '3'"):
        check_uscc("91350100M000100Y4Z")


def test_uscc_is_stripped_and_upper_cased() -> None:
    assert check_uscc("  91350100m000100y43\t") == "91350100M000100Y43"


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", ""])
def test_uscc_of_wrong_length_is_rejected_with_the_length(code: str) -> None:
    with pytest.raises(ValueError, match=f"18 characters, got {len(code)}"):
        check_uscc(code)


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z", "-"])
def test_uscc_with_a_character_outside_the_alphabet_is_rejected_naming_it(letter: str) -> None:
    code = "91350100" + letter + "000100Y43"
    with pytest.raises(ValueError, match=f"character '{letter}' at position 9 is not allowed"):
        check_uscc(code)


@pytest.mark.parametrize("code", VALID_USCCS)
def test_organisation_codes_inside_the_domain_examples_check(code: str) -> None:
    assert organisation_code_warning(code) is None


def test_broken_organisation_code_is_a_warning_not_a_rejection() -> None:
    code = with_uscc_check("91460100" + "12345678" + "0")  # the right check is '8'
    assert check_uscc(code) == code
    warning = organisation_code_warning(code)
    assert warning is not None
    assert "12345678-0" in warning
    assert "expected '8'" in warning


def test_organisation_check_maps_ten_to_x_and_eleven_to_zero() -> None:
    assert organisation_code_check_char("71526726") == "X"
    assert organisation_code_check_char("00000000") == "0"
    assert organisation_code_check_char("MA5TNFGY") == "9"


uscc_bodies = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


@given(uscc_bodies)
def test_uscc_check_character_matches_the_reference(body: str) -> None:
    assert uscc_check_char(body) == reference_uscc_check(body)
    assert check_uscc(body + reference_uscc_check(body)) == body + reference_uscc_check(body)


@given(uscc_bodies)
def test_every_single_character_substitution_of_a_valid_uscc_is_rejected(body: str) -> None:
    code = with_uscc_check(body)
    for position in range(18):
        for char in USCC_ALPHABET:
            if char != code[position]:
                typo = code[:position] + char + code[position + 1 :]
                with pytest.raises(ValueError, match="check character"):
                    check_uscc(typo)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), uscc_bodies)
def test_uscc_with_digit_prefix_agrees_with_stdnum(prefix: str, tail: str) -> None:
    body = prefix + tail[8:]
    for code in (with_uscc_check(body), body + "0", body + "Y"):
        try:
            check_uscc(code)
        except ValueError:
            accepted = False
        else:
            accepted = True
        assert accepted == stdnum.cn.uscc.is_valid(code)


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=8, max_size=8))
def test_organisation_check_character_matches_the_reference(body: str) -> None:
    assert organisation_code_check_char(body) == reference_org_check(body)


# Resident ID


def test_domain_example_of_resident_id_is_accepted_and_lower_case_x_is_upper_cased() -> None:
    assert check_resident_id("11010519491231002X") == "11010519491231002X"
    assert check_resident_id(" 11010519491231002x ") == "11010519491231002X"


def test_haikou_xiuying_id_is_accepted_although_the_district_is_younger_than_the_holder() -> None:
    assert not stdnum.cn.ric.is_valid(HAIKOU_XIUYING_ID)
    assert check_resident_id(HAIKOU_XIUYING_ID) == HAIKOU_XIUYING_ID


def test_resident_id_with_wrong_check_character_is_rejected_naming_the_expected_one() -> None:
    with pytest.raises(ValueError, match="check character is '0', expected 'X'"):
        check_resident_id("110105194912310020")


def test_resident_id_with_impossible_birth_date_is_rejected() -> None:
    body = "460105" + "19800231" + "001"
    with pytest.raises(ValueError, match="birth date 19800231 is not a real date"):
        check_resident_id(body + resident_id_check_char(body))


def test_resident_id_born_in_the_future_is_rejected() -> None:
    body = "460105" + "20210101" + "001"
    number = body + resident_id_check_char(body)
    assert check_resident_id(number, today=date(2021, 1, 1)) == number
    with pytest.raises(ValueError, match="birth date 20210101 is in the future"):
        check_resident_id(number, today=date(2020, 12, 31))


def test_resident_id_born_before_1900_is_rejected() -> None:
    body = "460105" + "18991231" + "001"
    with pytest.raises(ValueError, match="birth date 18991231 is before 1900"):
        check_resident_id(body + resident_id_check_char(body))


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("11010519491231002", "18 characters, got 17"),
        ("1101051949123100AX", "first 17 characters .* must be digits"),
        ("11010519491231002Y", "last character must be a digit or X, got 'Y'"),
    ],
)
def test_malformed_resident_id_is_rejected_saying_why(number: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_resident_id(number)


def test_birth_date_is_read_from_the_resident_id() -> None:
    assert birth_date_of("11010519491231002X") == date(1949, 12, 31)
    assert birth_date_of(HAIKOU_XIUYING_ID) == date(1980, 1, 1)


digit_bodies = st.text(alphabet="0123456789", min_size=17, max_size=17)


@given(digit_bodies)
def test_resident_id_check_character_matches_stdnum(body: str) -> None:
    # stdnum's calc_check_digit takes the full 18-character number and ignores the last one.
    assert resident_id_check_char(body) == stdnum.cn.ric.calc_check_digit(body + "0")


@given(
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.dates(min_value=date(1900, 1, 1), max_value=date.today()),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)
def test_every_single_digit_substitution_of_a_valid_resident_id_is_rejected(
    region: str, born: date, sequence: str
) -> None:
    body = f"{region}{born:%Y%m%d}{sequence}"
    number = body + resident_id_check_char(body)
    assert check_resident_id(number) == number
    for position in range(18):
        for char in "0123456789X" if position == 17 else "0123456789":
            if char != number[position]:
                with pytest.raises(ValueError, match="check character"):
                    check_resident_id(number[:position] + char + number[position + 1 :])


# Customs code


@pytest.mark.parametrize("code", ["4601230001", "460129A0B1", " 460129a0b1 "])
def test_well_formed_customs_codes_are_accepted(code: str) -> None:
    assert check_customs_code(code) == code.strip().upper()


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("460123000", "10 characters, got 9"),
        ("46A1230001", "positions 1-6 .* must be digits"),
        ("4601630001", r"position 5 \(economic zone\) is '6', expected one of 1, 2, 3, 4, 5, 9"),
        ("4601200001", r"position 6 \(enterprise type\) is '0'"),
        ("460123000-", "character '-' at position 10"),
    ],
)
def test_malformed_customs_code_is_rejected_saying_why(code: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_customs_code(code)


def test_customs_code_province_is_its_first_two_digits() -> None:
    assert customs_code_province("4601230001") == "46"


# EMS


@pytest.mark.parametrize("number", ["RR473124829GB", "EE471108151FR", "EA123456785CN"])
def test_domain_examples_of_s10_numbers_are_accepted(number: str) -> None:
    assert check_ems_tracking_number(number) == number
    assert check_ems_tracking_number(number.lower()) == number


def test_s10_number_with_wrong_check_digit_is_rejected_naming_the_expected_one() -> None:
    with pytest.raises(ValueError, match="check digit is '4', expected '5'"):
        check_ems_tracking_number("EB000717594HK")


def test_s10_check_digit_maps_ten_to_zero_and_eleven_to_five() -> None:
    assert s10_check_digit("47312482") == 9
    assert s10_check_digit("70000000") == 0
    assert s10_check_digit("00000000") == 5


@pytest.mark.parametrize("number", ["1234567890123", "8123456789012", "9876543210987"])
def test_domestic_ems_numbers_of_13_digits_starting_1_8_or_9_are_accepted(number: str) -> None:
    assert check_ems_tracking_number(number) == number


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("2234567890123", "starts with 1, 8 or 9, not '2'"),
        ("123456789012", "13 digits, got 12"),
        ("EA12345678CN", "neither an international EMS number"),
        ("not a number", "neither an international EMS number"),
    ],
)
def test_malformed_ems_number_is_rejected_saying_why(number: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_ems_tracking_number(number)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_s10_check_digit_matches_the_reference(serial: str) -> None:
    assert s10_check_digit(serial) == reference_s10_check(serial)
    number = f"EA{serial}{reference_s10_check(serial)}CN"
    assert check_ems_tracking_number(number) == number


# Postcode, phone, card, certificate


def test_six_digit_postcode_is_accepted_and_stripped() -> None:
    assert check_postcode(" 570125 ") == "570125"


@pytest.mark.parametrize("code", ["57012", "5701250", "57O125", "５７０１２５", ""])
def test_postcode_that_is_not_six_ascii_digits_is_rejected(code: str) -> None:
    with pytest.raises(ValueError, match="exactly 6 digits"):
        check_postcode(code)


@pytest.mark.parametrize(
    ("phone", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        (" +8613800138000 ", "+8613800138000"),
        ("0898-68516652", "+8689868516652"),
        ("(0898) 6520 3123", "+8689865203123"),
    ],
)
def test_mobiles_and_landlines_are_normalised_to_e164(phone: str, e164: str) -> None:
    assert check_phone(phone) == e164


@pytest.mark.parametrize(
    ("phone", "problem"),
    [
        ("010-95198", "service number, not a landline"),
        ("68516652", "needs its area code"),
        ("+85291234567", r"not a mainland China number \(\+852\)"),
        ("4008123123", "not a mobile or landline"),
        ("1380013800", "not a valid mainland mobile or landline"),
        ("call me", "not a phone number"),
        ("+", "not a phone number"),
    ],
)
def test_phone_that_a_registrant_cannot_use_is_rejected_saying_why(
    phone: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        check_phone(phone)


def test_card_number_keeps_leading_zeros_and_is_upper_cased() -> None:
    assert check_card_number(" 0012345678901234 ") == "0012345678901234"
    assert check_card_number("wd-0001a") == "WD-0001A"
    assert check_card_number("0" * 20) == "0" * 20


@pytest.mark.parametrize(
    ("card", "problem"),
    [
        ("", "must not be empty"),
        ("0" * 21, "at most 20 characters, got 21"),
        ("0012 3456", "only digits, letters and '-'"),
        ("卡0012", "only digits, letters and '-'"),
    ],
)
def test_malformed_card_number_is_rejected_saying_why(card: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_card_number(card)


def test_certificate_number_is_stored_lower_case() -> None:
    assert check_certificate_number("03000000000CDE6F") == "03000000000cde6f"


@pytest.mark.parametrize(
    ("serial", "problem"),
    [("03000000000cde6", "16 hex characters, got 15"), ("03000000000cde6g", "only hex")],
)
def test_malformed_certificate_number_is_rejected_saying_why(serial: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_certificate_number(serial)


# Masks


def test_id_numbers_are_masked_keeping_first_and_last_four() -> None:
    assert mask_id_number(HAIKOU_XIUYING_ID) == "4601**********0016"
    assert mask_id_number("91350100M000100Y43") == "9135**********0Y43"
    assert mask_id_number("12345678") == "********"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613800138000", "138****8000"),
        ("13800138000", "138****8000"),
        ("0898-68516652", "0898-****6652"),
        ("+8689868516652", "0898-****6652"),
        ("010-95198", "010-*5198"),
        ("??", "**"),
    ],
)
def test_phones_are_masked_for_the_hotline(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_stored_mobiles_mask_as_their_parsed_national_form(national: str) -> None:
    # The stored E.164 form takes a shortcut past phonenumbers; the national form does not.
    assert (
        mask_phone("+86" + national) == mask_phone(national) == f"{national[:3]}****{national[-4:]}"
    )


# pydantic


class Filing(BaseModel):
    uscc: Uscc
    legal_person_id: ResidentId
    customs_code: CustomsCode
    tracking: EmsTrackingNumber
    postcode: Postcode
    phone: PhoneNumber
    card: CardNumber
    certificate: CertificateNumber | None = None


GOOD_FILING = {
    "uscc": "n2460100ma5tnfgy9d",
    "legal_person_id": HAIKOU_XIUYING_ID,
    "customs_code": "4601230001",
    "tracking": "ea123456785cn",
    "postcode": "570125",
    "phone": "138 0013 8000",
    "card": "0012345678901234",
}


def test_model_fields_typed_with_the_aliases_are_normalised() -> None:
    filing = Filing.model_validate(GOOD_FILING)
    assert filing.uscc == "N2460100MA5TNFGY9D"
    assert filing.tracking == "EA123456785CN"
    assert filing.phone == "+8613800138000"
    assert filing.certificate is None


def test_a_bad_identifier_is_a_field_level_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        Filing.model_validate({**GOOD_FILING, "uscc": "91350100M000100Y4Z", "certificate": "xyz"})
    errors = {error["loc"]: error["msg"] for error in caught.value.errors()}
    assert set(errors) == {("uscc",), ("certificate",)}
    assert "check character is 'Z', expected '3'" in errors[("uscc",)]
    assert "16 hex characters, got 3" in errors[("certificate",)]


def test_json_schema_carries_the_examples() -> None:
    schema = Filing.model_json_schema()["properties"]
    assert schema["uscc"]["examples"] == ["91350100M000100Y43"]
    assert schema["phone"]["examples"] == ["13800138000"]


# Generators


@given(st.integers(min_value=0, max_value=2**64))
def test_generators_produce_values_the_checkers_accept_unchanged(seed: int) -> None:
    rng = random.Random(seed)
    uscc = make_uscc(rng)
    assert check_uscc(uscc) == uscc
    assert uscc.startswith("914601")
    assert organisation_code_warning(uscc) is None
    resident_id = make_resident_id(rng)
    assert check_resident_id(resident_id) == resident_id
    assert resident_id.startswith("460105")
    customs_code = make_customs_code(rng)
    assert check_customs_code(customs_code) == customs_code
    assert customs_code_province(customs_code) == "46"
    s10 = make_s10(rng)
    assert check_ems_tracking_number(s10) == s10
    mobile = make_mobile(rng)
    assert check_phone(mobile) == mobile
    card = make_card_number(rng)
    assert check_card_number(card) == card
    certificate = make_certificate_number(rng)
    assert check_certificate_number(certificate) == certificate


@given(st.integers(min_value=0, max_value=2**32), st.dates(max_value=date.today()))
def test_generators_honour_their_arguments(seed: int, born: date) -> None:
    rng = random.Random(seed)
    assert make_uscc(rng, region_prefix="110105").startswith("91110105")
    assert make_uscc(rng, region_prefix="").startswith("91")
    if born >= date(1900, 1, 1):
        assert birth_date_of(make_resident_id(rng, region="110105", birth=born)) == born
    assert make_customs_code(rng, province="11").startswith("11")
    assert make_s10(rng, prefix="RR", country="GB")[::11] == "RG"


def test_generators_are_deterministic_for_a_seed() -> None:
    def batch(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [make_uscc(rng), make_resident_id(rng), make_mobile(rng), make_s10(rng)]

    assert batch(7) == batch(7)
    assert batch(7) != batch(8)


@pytest.mark.parametrize(
    "call",
    [
        lambda rng: make_uscc(rng, region_prefix="46A1"),
        lambda rng: make_uscc(rng, region_prefix="4601001"),
        lambda rng: make_resident_id(rng, region="4601"),
        lambda rng: make_customs_code(rng, province="460"),
        lambda rng: make_s10(rng, prefix="E1"),
    ],
)
def test_generators_refuse_malformed_arguments(call: Callable[[random.Random], str]) -> None:
    with pytest.raises(ValueError, match=r"must be|at most"):
        call(random.Random(0))


def test_a_stored_phone_is_read_back_as_stored_but_a_sent_one_is_checked() -> None:
    phones = TypeAdapter(PhoneNumber)
    assert phones.validate_python("+8613800138000", context={STORED: True}) == "+8613800138000"
    assert phones.validate_python("13800138000") == "+8613800138000"
    with pytest.raises(ValueError, match="not a valid mainland"):
        phones.validate_python("+8610012345678")  # no such mobile prefix: refused when sent
    assert phones.validate_python(" 138 0013 8000 ", context={STORED: True}) == "+8613800138000"
