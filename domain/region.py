"""Per-province configuration: the department codes and the window a region's filings use, as
`regions.toml` gives them, checked when this module is imported."""

from __future__ import annotations

import re
from typing import Annotated, Final, Self

from pydantic import AfterValidator, field_validator, model_validator

from domain.base import DomainError, Immutable
from domain.data_files import coded_tables

_CODE_NAME: Final = re.compile(r"[a-z][a-z_]{1,30}")


def _digits(length: int, what: str) -> AfterValidator:
    """A code of exactly `length` ASCII digits (`what` names it in the error)."""

    def check(value: str) -> str:
        if len(value) != length or not (value.isascii() and value.isdigit()):
            raise ValueError(f"{what} is {length} digits, got {value!r}")
        return value

    return AfterValidator(check)


class RegionConfig(Immutable):
    """The codes and window of one province's E-Port enrollment (configuration, not constants)."""

    code: str
    name: str
    province_prefix: Annotated[str, _digits(2, "a province prefix (省级行政区划代码)")]
    business_registration_dept_code: Annotated[str, _digits(6, "工商审核单位代码")]
    commerce_authority_code: Annotated[str, _digits(4, "商务部主管机关代码")]
    forex_bureau_code: Annotated[str, _digits(6, "主管外汇局代码")]
    postcode_prefix: Annotated[str, _digits(2, "a postcode prefix")]
    area_code: str
    window_name: str

    @field_validator("code")
    @classmethod
    def _code_is_a_name(cls, value: str) -> str:
        if not _CODE_NAME.fullmatch(value):
            raise ValueError(f"a region code is lower-case letters and '_', got {value!r}")
        return value

    @field_validator("name", "window_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("area_code")
    @classmethod
    def _area(cls, value: str) -> str:
        if not (3 <= len(value) <= 4 and value.isascii() and value.isdigit() and value[0] == "0"):
            raise ValueError(f"an area code is 0 and 2-3 more digits, got {value!r}")
        return value

    @model_validator(mode="after")
    def _codes_belong_to_the_province(self) -> Self:
        for field in (
            "business_registration_dept_code",
            "commerce_authority_code",
            "forex_bureau_code",
        ):
            if not getattr(self, field).startswith(self.province_prefix):
                raise ValueError(f"{field} must start with the province prefix")
        return self


REGIONS: Final = coded_tables(__package__, "regions.toml", RegionConfig)
HAINAN: Final = REGIONS["hainan"]
GUANGDONG: Final = REGIONS["guangdong"]


def get_region(code: str) -> RegionConfig:
    """The configuration of a region by its code, refusing an unknown one."""
    try:
        return REGIONS[code]
    except KeyError:
        known = ", ".join(sorted(REGIONS))
        raise DomainError(
            "unknown_region", f"unknown region {code!r}; known: {known}", field="region"
        ) from None
