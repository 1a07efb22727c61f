"""Validators, pydantic types and masks for the identifiers the ledger records (docs/domain.md)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Final

import phonenumbers
from pydantic import AfterValidator, Field, ValidationInfo

from domain.personal import STORED

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_RIC_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK: Final = "10X98765432"
_S10_WEIGHTS: Final = (8, 6, 4, 2, 3, 5, 9, 7)
ECONOMIC_ZONES: Final = {
    "1": "特区",
    "2": "开发区/洋浦",
    "3": "高新区",
    "4": "保税区",
    "5": "出口加工区",
    "9": "其他",
}
_EARLIEST_BIRTH: Final = date(1900, 1, 1)
_S10: Final = re.compile(r"([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})")
_PHONE_CHARS: Final = re.compile(r"[0-9+\-() ]+")
_CARD: Final = re.compile(r"[0-9A-Za-z-]+")
_HEX: Final = re.compile(r"[0-9a-fA-F]+")


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _first_bad(text: str, allowed: str) -> tuple[int, str] | None:
    """The 1-based position and character of the first character not in `allowed`."""
    for position, char in enumerate(text, start=1):
        if char not in allowed:
            return position, char
    return None


def uscc_check_char(body: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a USCC."""
    if len(body) != 17 or _first_bad(body, USCC_ALPHABET):
        raise ValueError(f"{body!r} is not 17 characters of the USCC alphabet")
    total = sum(USCC_ALPHABET.index(char) * w for char, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(value: str) -> str:
    """Return the normalised 统一社会信用代码 (USCC) or raise ValueError."""
    code = value.strip().upper()
    if len(code) != 18:
        raise ValueError(f"a USCC has 18 characters, got {len(code)}")
    bad = _first_bad(code[:17], USCC_ALPHABET)
    if bad:
        raise ValueError(
            f"character {bad[1]!r} at position {bad[0]} is not allowed in a USCC "
            "(digits and upper-case letters except I, O, S, V, Z)"
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValueError(f"check character is {code[17]!r}, expected {expected!r}")
    return code


def organisation_code_check_char(body: str) -> str:
    """The GB 11714-1997 check character for an 8-character organisation code body."""
    if len(body) != 8 or _first_bad(body, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        raise ValueError(f"{body!r} is not 8 digits or upper-case letters")
    values = (int(char) if char.isdigit() else ord(char) - 55 for char in body)
    remainder = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def organisation_code_warning(uscc: str) -> str | None:
    """A warning when the organisation code inside a valid USCC (chars 9-17) does not check."""
    code = check_uscc(uscc)
    body, check = code[8:16], code[16]
    expected = organisation_code_check_char(body)
    if check == expected:
        return None
    return (
        f"organisation code {body}-{check} (USCC characters 9-17) does not check under "
        f"GB 11714-1997: check character is {check!r}, expected {expected!r}"
    )


def resident_id_check_char(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID."""
    if len(body) != 17 or not _is_digits(body):
        raise ValueError(f"{body!r} is not 17 digits")
    return _RIC_CHECK[sum(int(d) * w for d, w in zip(body, _RIC_WEIGHTS, strict=True)) % 11]


def _birth_date(number: str, today: date | None) -> date:
    text = number[6:14]
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"birth date {text} is not a real date") from None
    if born < _EARLIEST_BIRTH:
        raise ValueError(f"birth date {text} is before 1900")
    if born > (today or date.today()):
        raise ValueError(f"birth date {text} is in the future")
    return born


def check_resident_id(value: str, *, today: date | None = None) -> str:
    """Return the normalised 居民身份证号 (checksum and birth date, not region) or raise."""
    number = value.strip().upper()
    if len(number) != 18:
        raise ValueError(f"a resident ID number has 18 characters, got {len(number)}")
    if not _is_digits(number[:17]):
        raise ValueError("the first 17 characters of a resident ID number must be digits")
    if number[17] not in "0123456789X":
        raise ValueError(f"the last character must be a digit or X, got {number[17]!r}")
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        raise ValueError(f"check character is {number[17]!r}, expected {expected!r}")
    _birth_date(number, today)
    return number


def birth_date_of(resident_id: str) -> date:
    """The birth date encoded in a valid resident ID number."""
    number = check_resident_id(resident_id)
    return _birth_date(number, None)


def check_customs_code(value: str) -> str:
    """Return the normalised 10-character 海关编码 (shape only) or raise ValueError."""
    code = value.strip().upper()
    if len(code) != 10:
        raise ValueError(f"a customs code has 10 characters, got {len(code)}")
    if not _is_digits(code[:6]):
        raise ValueError(
            "positions 1-6 of a customs code (province, city, economic zone, enterprise type) "
            f"must be digits, got {code[:6]!r}"
        )
    if code[4] not in ECONOMIC_ZONES:
        zones = ", ".join(ECONOMIC_ZONES)
        raise ValueError(f"position 5 (economic zone) is {code[4]!r}, expected one of {zones}")
    if code[5] == "0":
        raise ValueError("position 6 (enterprise type) is '0', expected 1-9")
    bad = _first_bad(code[6:], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if bad:
        raise ValueError(
            f"character {bad[1]!r} at position {bad[0] + 6} is not allowed in the sequence "
            "(positions 7-10 are digits or letters A-Z)"
        )
    return code


def customs_code_province(code: str) -> str:
    """The two-digit province code (Hainan: '46') of a valid customs code."""
    return check_customs_code(code)[:2]


def s10_check_digit(serial8: str) -> int:
    """The UPU S10 check digit for an 8-digit serial number."""
    if len(serial8) != 8 or not _is_digits(serial8):
        raise ValueError(f"{serial8!r} is not 8 digits")
    remainder = 11 - sum(int(d) * w for d, w in zip(serial8, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(remainder, remainder)


def check_ems_tracking_number(value: str) -> str:
    """Return the normalised EMS number (UPU S10 with check digit, or 13-digit domestic)."""
    number = value.strip().upper()
    if _is_digits(number):
        if len(number) != 13:
            raise ValueError(f"a domestic EMS number has 13 digits, got {len(number)}")
        if number[0] not in "189":
            raise ValueError(f"a domestic EMS number starts with 1, 8 or 9, not {number[0]!r}")
        return number
    match = _S10.fullmatch(number)
    if match is None:
        raise ValueError(
            f"{number!r} is neither an international EMS number (2 letters, 9 digits, "
            "2 letters, e.g. EA123456785CN) nor a domestic one (13 digits starting 1, 8 or 9)"
        )
    expected = s10_check_digit(match[2])
    if int(match[3]) != expected:
        raise ValueError(f"check digit is {match[3]!r}, expected '{expected}'")
    return number


def check_postcode(value: str) -> str:
    """Return the 6-digit 邮编 or raise ValueError."""
    code = value.strip()
    if len(code) != 6 or not _is_digits(code):
        raise ValueError(f"a postcode is exactly 6 digits, got {code!r}")
    return code


def check_phone(value: str) -> str:
    """Return a mainland mobile or landline (with area code) in E.164, or raise ValueError."""
    text = value.strip()
    if not _PHONE_CHARS.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a phone number: only digits, spaces, '+', '-' and brackets"
        )
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number") from None
    if number.country_code != 86:
        raise ValueError(f"{text!r} is not a mainland China number (+{number.country_code})")
    national = phonenumbers.national_significant_number(number)
    if not phonenumbers.is_valid_number(number):
        hint = ""
        if len(national) in (7, 8) and national[0] not in "01":
            hint = "; a landline needs its area code, e.g. 0898-68516652"
        raise ValueError(f"{text!r} is not a valid mainland mobile or landline number{hint}")
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        subscriber = len(national) - phonenumbers.length_of_geographical_area_code(number)
        if subscriber not in (7, 8):
            raise ValueError(
                f"{text!r} is a service number, not a landline: a landline has 7 or 8 digits "
                f"after the area code, this has {subscriber}"
            )
    elif kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValueError(f"{text!r} is not a mobile or landline number (e.g. a 400/800 number)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_card_number(value: str) -> str:
    """Return the opaque card number (1-20 of 0-9 A-Z -, leading zeros kept) upper-cased."""
    card = value.strip()
    if not card:
        raise ValueError("a card number must not be empty")
    if len(card) > 20:
        raise ValueError(f"a card number has at most 20 characters, got {len(card)}")
    if not (card.isascii() and _CARD.fullmatch(card)):
        raise ValueError(f"a card number has only digits, letters and '-', got {card!r}")
    return card.upper()


def check_certificate_number(value: str) -> str:
    """Return the 16-hex-character certificate number in lower case, or raise ValueError."""
    serial = value.strip()
    if len(serial) != 16:
        raise ValueError(f"a certificate number has 16 hex characters, got {len(serial)}")
    if not _HEX.fullmatch(serial):
        raise ValueError(f"a certificate number has only hex characters 0-9 a-f, got {serial!r}")
    return serial.lower()


_STORED_MOBILE = re.compile(r"\+861[0-9]{10}")


def _mask_tail(text: str) -> str:
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters of an ID number, star the rest."""
    text = value.strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_phone(value: str) -> str:
    """Mask a phone: mobile 138****8000, landline 0898-****6652, anything else ****6652."""
    text = value.strip()
    if _STORED_MOBILE.fullmatch(text):  # the stored (E.164) mainland mobile: no parse needed
        return f"{text[3:6]}****{text[-4:]}"
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return _mask_tail(text)
    national = phonenumbers.national_significant_number(number)
    if number.country_code == 86:
        if len(national) == 11 and national.startswith("1"):
            return f"{national[:3]}****{national[-4:]}"
        area = phonenumbers.length_of_geographical_area_code(number)
        if area:
            return f"0{national[:area]}-{_mask_tail(national[area:])}"
    return _mask_tail(national)


Uscc = Annotated[
    str,
    AfterValidator(check_uscc),
    Field(description="统一社会信用代码 (GB 32100-2015)", examples=["91350100M000100Y43"]),
]
ResidentId = Annotated[
    str,
    AfterValidator(check_resident_id),
    Field(description="居民身份证号 (GB 11643-1999)", examples=["11010519491231002X"]),
]
CustomsCode = Annotated[
    str,
    AfterValidator(check_customs_code),
    Field(description="海关编码, 10 characters", examples=["4601230001"]),
]
EmsTrackingNumber = Annotated[
    str,
    AfterValidator(check_ems_tracking_number),
    Field(description="EMS number: UPU S10 or 13-digit domestic", examples=["EA123456785CN"]),
]
Postcode = Annotated[
    str, AfterValidator(check_postcode), Field(description="邮编", examples=["570125"])
]


def _phone(value: str, info: ValidationInfo) -> str:
    """`check_phone`; a mainland number the ledger stored (E.164, read back from an event)
    is taken as it was stored, without parsing it again."""
    if (info.context or {}).get(STORED) and STORED_PHONE.fullmatch(value):
        return value
    return check_phone(value)


STORED_PHONE = re.compile(r"\+86[1-9][0-9]{6,11}")
"""A phone as `check_phone` stores it: +86 and the national number."""

PhoneNumber = Annotated[
    str,
    AfterValidator(_phone),
    Field(description="mainland mobile or landline, stored E.164", examples=["13800138000"]),
]
CardNumber = Annotated[
    str,
    AfterValidator(check_card_number),
    Field(description="卡号 as printed, up to 20 characters", examples=["0123456789012345"]),
]
CertificateNumber = Annotated[
    str,
    AfterValidator(check_certificate_number),
    Field(description="certificate number, 16 hex characters", examples=["03000000000cde6f"]),
]
