"""Deterministic generators of realistic, valid identifiers for demos and tests."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

import phonenumbers

from domain.identifiers import (
    USCC_ALPHABET,
    organisation_code_check_char,
    resident_id_check_char,
    s10_check_digit,
    uscc_check_char,
)

_DIGITS: Final = "0123456789"
_MOBILE_PREFIXES: Final = (
    *(f"13{d}" for d in _DIGITS),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *("166", "177", "178"),
    *(f"18{d}" for d in _DIGITS),
    *("198", "199"),
)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_DIGITS) for _ in range(count))


def _require(text: str, length: int, alphabet: str, what: str) -> None:
    if len(text) != length or any(char not in alphabet for char in text):
        raise ValueError(f"{what} must be {length} of {alphabet!r}, got {text!r}")


def make_uscc(rng: random.Random, region_prefix: str = "4601") -> str:
    """A valid 工商 USCC (91…) in the region, with a checking organisation code inside."""
    _require(region_prefix, len(region_prefix), _DIGITS, "region_prefix")
    if len(region_prefix) > 6:
        raise ValueError(f"region_prefix has at most 6 digits, got {region_prefix!r}")
    region = region_prefix + _digits(rng, 6 - len(region_prefix))
    if rng.random() < 0.5:  # codes issued since 2015 look like MA5TNFGY
        organisation = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        organisation = _digits(rng, 8)
    body = "91" + region + organisation + organisation_code_check_char(organisation)
    return body + uscc_check_char(body)


def make_resident_id(rng: random.Random, region: str = "460105", birth: date | None = None) -> str:
    """A valid resident ID number for someone born in `region` (a random adult if no date)."""
    _require(region, 6, _DIGITS, "region")
    if birth is None:
        birth = date(1960, 1, 1) + timedelta(days=rng.randrange(40 * 365))
    body = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{_digits(rng, 3)}"
    return body + resident_id_check_char(body)


def make_customs_code(rng: random.Random, province: str = "46") -> str:
    """A well-formed customs code registered in `province`."""
    _require(province, 2, _DIGITS, "province")
    city = f"{rng.randint(1, 30):02d}"
    return province + city + rng.choice("123459") + rng.choice("123456789") + _digits(rng, 4)


def make_s10(rng: random.Random, prefix: str = "EA", country: str = "CN") -> str:
    """A UPU S10 international EMS number with a correct check digit."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    _require(prefix, 2, letters, "prefix")
    _require(country, 2, letters, "country")
    serial = _digits(rng, 8)
    return f"{prefix}{serial}{s10_check_digit(serial)}{country}"


def make_mobile(rng: random.Random) -> str:
    """A mainland mobile number libphonenumber accepts, in E.164 (+86…)."""
    for _ in range(1000):
        national = rng.choice(_MOBILE_PREFIXES) + _digits(rng, 8)
        number = phonenumbers.parse(national, "CN")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise RuntimeError("no valid mobile number found; the mobile prefixes need updating")


def make_card_number(rng: random.Random) -> str:
    """A 16-digit card number; about a quarter start with 0 like old Watchdata cards."""
    return ("0" if rng.random() < 0.25 else "8") + _digits(rng, 15)


def make_certificate_number(rng: random.Random) -> str:
    """A 16-hex-character certificate number shaped like 03000000000cde6f."""
    return f"0300000000{rng.randrange(16**6):06x}"
