"""A key's card on the console's screens: the status line, the key's kind, its last event, and
what to tell the caller and whom to call — the latter from the key's record (`KeyRecord.advice`,
the rule the API answers with, `projections/key_status/advice.py`), so screen and API agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from domain.forms import KEY_KIND_LABELS, MEDIA_LABELS, SUPPLIER_LABELS, KeyKind, Media, Supplier
from domain.ukey.status import KeyStatus
from projections.key_status.advice import Contact, Said, event_words
from projections.key_status.records import KeyRecord

CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")
"""Dates are told in China Standard Time (UTC+8), as the caller reads them."""

STATUS_LABELS: Final = {
    KeyStatus.ISSUED: Said("已制卡，待邮寄", "issued, not yet mailed"),
    KeyStatus.MAILED: Said("已寄出", "mailed"),
    KeyStatus.DELIVERED: Said("已签收，未启用", "delivered, not yet used"),
    KeyStatus.ACTIVE: Said("正常使用", "in use"),
    KeyStatus.LOCKED: Said("已锁定", "locked"),
    KeyStatus.LOST: Said("已挂失", "reported lost"),
    KeyStatus.FROZEN: Said("已冻结", "frozen"),
    KeyStatus.VOID: Said("已作废", "void"),
    KeyStatus.REPLACED: Said("已补办换卡", "replaced"),
    KeyStatus.EXPIRED: Said("已过期", "expired"),
}
"""Each status as the card's first words (the advice's `status_zh` is a whole sentence)."""


@dataclass(frozen=True, slots=True)
class KeyCard:
    """What the card of one key shows."""

    status: str
    headline: Said
    kind: Said
    last: Said
    last_at: datetime
    tell: tuple[Said, ...]
    contacts: tuple[Contact, ...]
    supplier: Said | None


def china_date(moment: datetime) -> str:
    """The date of `moment` in China (YYYY-MM-DD)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TIME).date().isoformat()


def headline(record: KeyRecord) -> Said:
    """`已锁定 · 剩余 0 次 · 2030-10-27 到期`: status, PIN attempts left, expiry date."""
    try:
        words = STATUS_LABELS[KeyStatus(record.status)]
    except ValueError:
        words = Said(record.status, record.status)
    until = china_date(record.valid_until)
    if record.status in (KeyStatus.VOID, KeyStatus.REPLACED, KeyStatus.LOST, KeyStatus.FROZEN):
        return Said(f"{words.zh} · {until} 到期", f"{words.en} · valid until {until}")
    if record.status == KeyStatus.EXPIRED:
        return Said(f"{words.zh} · {until} 到期", f"{words.en} · expired {until}")
    left = record.attempts_left
    return Said(
        f"{words.zh} · 剩余 {left} 次 · {until} 到期",
        f"{words.en} · {left} attempts left · valid until {until}",
    )


def _kind(record: KeyRecord) -> Said:
    try:
        kind = KEY_KIND_LABELS[KeyKind(record.kind)]
        media = MEDIA_LABELS[Media(record.media)]
    except ValueError:
        return Said(record.kind, record.kind)
    english = "legal-person key" if record.kind == KeyKind.LEGAL_PERSON else "operator key"
    return Said(f"{kind}（{media}）", f"{english} ({media})")


def _supplier(record: KeyRecord) -> Said | None:
    if record.supplier is None:
        return None
    try:
        name = SUPPLIER_LABELS[Supplier(record.supplier)]
    except ValueError:
        name = record.supplier
    return Said(name, name)


def advise(record: KeyRecord) -> KeyCard:
    """The card of one key."""
    advice = record.advice
    return KeyCard(
        status=record.status,
        headline=headline(record),
        kind=_kind(record),
        last=event_words(record.last_change.event),
        last_at=record.last_change.at,
        tell=tuple(Said(zh, en) for zh, en in zip(advice.tell_zh, advice.tell_en, strict=True)),
        contacts=advice.call,
        supplier=_supplier(record),
    )
