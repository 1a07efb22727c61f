"""The permission catalogue of attachment 2: what an operator may be granted, by whom."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import PlainSerializer

from domain.base import Immutable


class Permission(StrEnum):
    """A business permission an operator asks of customs or of the foreign-exchange bureau."""

    DECLARATION_UPLOAD = "declaration.upload"
    DECLARATION_REVIEW_AND_DECLARE = "declaration.review_and_declare"
    DECLARATION_CONFIRM_DECLARATION = "declaration.confirm_declaration"
    DECLARATION_CONFIRM_POWER_OF_ATTORNEY = "declaration.confirm_power_of_attorney"
    DECLARATION_CROSS_REGION_FILING = "declaration.cross_region_filing"
    PAYMENT_VIEW = "payment.view"
    PAYMENT_DESIGNATE_PAYING_UNIT = "payment.designate_paying_unit"
    PAYMENT_FIRST_REVIEW = "payment.first_review"
    PAYMENT_SECOND_REVIEW = "payment.second_review"
    PAYMENT_CONFIRM_PAYMENT = "payment.confirm_payment"
    EXPRESS_ENTRY = "express.entry"
    EXPRESS_DECLARE = "express.declare"
    FOREX_RECEIPT_ENTRY = "forex_receipt.entry"
    FOREX_RECEIPT_DECLARE = "forex_receipt.declare"


class Authority(StrEnum):
    """Who a permission is asked of."""

    CUSTOMS = "customs"
    FOREX = "forex"


class PermissionInfo(Immutable):
    """A permission's group, authority and Chinese labels, as on attachment 2."""

    group: str
    group_label: str
    authority: Authority
    label: str


_GROUPS: Final = {
    "declaration": ("报关单", Authority.CUSTOMS),
    "payment": ("网上支付", Authority.CUSTOMS),
    "express": ("快件管理", Authority.CUSTOMS),
    "forex_receipt": ("出口收汇", Authority.FOREX),
}
_LABELS: Final = {
    Permission.DECLARATION_UPLOAD: "上载",
    Permission.DECLARATION_REVIEW_AND_DECLARE: "审核申报",
    Permission.DECLARATION_CONFIRM_DECLARATION: "申报确认",
    Permission.DECLARATION_CONFIRM_POWER_OF_ATTORNEY: "委托书确认",
    Permission.DECLARATION_CROSS_REGION_FILING: "异地报关备案申请",
    Permission.PAYMENT_VIEW: "查阅",
    Permission.PAYMENT_DESIGNATE_PAYING_UNIT: "指定缴款单位",
    Permission.PAYMENT_FIRST_REVIEW: "支付初审",
    Permission.PAYMENT_SECOND_REVIEW: "支付复审",
    Permission.PAYMENT_CONFIRM_PAYMENT: "支付确认",
    Permission.EXPRESS_ENTRY: "录入",
    Permission.EXPRESS_DECLARE: "申报",
    Permission.FOREX_RECEIPT_ENTRY: "录入",
    Permission.FOREX_RECEIPT_DECLARE: "申报",
}
PERMISSION_CATALOGUE: Final[dict[Permission, PermissionInfo]] = {
    permission: PermissionInfo(
        group=(group := permission.value.split(".")[0]),
        group_label=_GROUPS[group][0],
        authority=_GROUPS[group][1],
        label=label,
    )
    for permission, label in _LABELS.items()
}
CUSTOMS_PERMISSIONS: Final = frozenset(
    p for p, info in PERMISSION_CATALOGUE.items() if info.authority is Authority.CUSTOMS
)
FOREX_PERMISSIONS: Final = frozenset(
    p for p, info in PERMISSION_CATALOGUE.items() if info.authority is Authority.FOREX
)


def sorted_values(permissions: frozenset[Permission]) -> list[str]:
    """Permission values in a stable order (for bytes and messages)."""
    return sorted(p.value for p in permissions)


# Sorted when serialised: a frozenset's iteration order changes with PYTHONHASHSEED.
PermissionSet = Annotated[
    frozenset[Permission], PlainSerializer(sorted_values, return_type=list[str])
]
