"""What the hotline tells a caller about a key: the status in words, what happened last, the next
step and whom to call — in Chinese and English, from one table the console and the API share.

The contacts are those the Hainan guide (附件4 section 四) hands out, and the suppliers of 附件5;
they are configuration of the region, kept here beside the words that name them. Nothing here
holds personal data: the advice is computed from a `KeyRecord` and names no person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from domain.forms import KEY_KIND_LABELS, MEDIA_LABELS, SUPPLIER_LABELS, KeyKind, Media, Supplier
from domain.ukey.status import PIN_LOCK_THRESHOLD, KeyStatus
from projections.key_status.records import KeyRecord

CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")
"""Dates are told in China Standard Time (UTC+8), as the caller reads them."""
RENEW_WITHIN_DAYS: Final = 30
"""A key this close to its expiry is told to renew."""
INITIAL_PIN: Final = "88888888"


@dataclass(frozen=True, slots=True)
class Said:
    """One sentence in both languages."""

    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        """The sentence in `lang` (zh unless `en`)."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True, slots=True)
class Contact:
    """A number the hotline gives out, and who answers it."""

    code: str
    phone: str
    who: Said


CONTACTS: Final = {
    "card_window": Contact(
        "card_window",
        "0898-65203080",
        Said(
            "海南省政务中心制卡发卡办理窗口（审核、发卡、解锁）",
            "card-making and card-issuing window (review, issue, unlock)",
        ),
    ),
    "service_window": Contact(
        "service_window",
        "0898-65203123",
        Said(
            "海南省政务服务中心二楼社会服务窗口（证书更新现场办理）",
            "social-service window, 2nd floor of the service centre (renewals in person)",
        ),
    ),
    "data_centre": Contact(
        "data_centre",
        "010-95198",
        Said("中国电子口岸数据中心热线", "China E-Port data centre hotline"),
    ),
    "haikou_support": Contact(
        "haikou_support",
        "0898-68516652",
        Said(
            "海口数据分中心技术支持热线（登录、控件、浏览器）",
            "Haikou data sub-centre technical support (login, client control, browser)",
        ),
    ),
}
"""The hotline's contacts (Hainan, 附件4 section 四)."""

STATUS_WORDS: Final = {
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
"""Each key status in words."""

EVENT_WORDS: Final = {
    "KeyIssued": Said("发卡", "key issued"),
    "KeyMailed": Said("EMS寄出", "mailed by EMS"),
    "KeyDelivered": Said("快递签收", "delivered"),
    "PinAttemptFailed": Said("密码输错", "wrong PIN"),
    "PinAttemptSucceeded": Said("密码验证成功", "PIN accepted"),
    "PinLocked": Said("输错5次，已锁定", "locked after 5 wrong PINs"),
    "PinUnlocked": Said("窗口解锁", "unlocked at the window"),
    "PinChanged": Said("修改密码", "PIN changed"),
    "CertificateRenewalRequested": Said("申请证书更新", "renewal applied for"),
    "CertificateRenewalPreApproved": Said("证书更新预审通过", "renewal pre-approved"),
    "CertificateRenewed": Said("证书已更新", "certificate renewed"),
    "KeyReportedLost": Said("挂失", "reported lost"),
    "KeyFrozen": Said("冻结", "frozen"),
    "KeyVoided": Said("作废", "voided"),
    "KeyReplaced": Said("补办换卡", "replaced"),
}
"""What each key event means to a caller."""


@dataclass(frozen=True, slots=True)
class Advice:
    """The status card of one key: the line in words, the last event, what to say, whom to call."""

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


def status_words(status: str) -> Said:
    """A key status in words (the value itself when unknown)."""
    try:
        return STATUS_WORDS[KeyStatus(status)]
    except ValueError:
        return Said(status, status)


def event_words(event: str) -> Said:
    """An event type in words (the type name itself when unknown)."""
    return EVENT_WORDS.get(event, Said(event, event))


def headline(record: KeyRecord) -> Said:
    """`已锁定 · 剩余 0 次 · 2030-10-27 到期`: status, PIN attempts left, expiry date."""
    words = status_words(record.status)
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


RENEWAL_STEPS: Final = Said(
    "证书更新：先在海南省政务服务网在线申请，窗口预审通过后，经办人携带《工商营业执照》原件、"
    "经办人身份证、介绍信和该Ukey，到海南省政务服务中心二楼社会服务窗口现场办理；更新后密码恢复为"
    f"初始密码 {INITIAL_PIN}。",
    "Renewal: apply online on the Hainan government service site; once the window has "
    "pre-reviewed it, the clerk brings the original business licence, their ID card, an "
    "introduction letter and the key itself to the social-service window (2nd floor); the PIN "
    f"is then {INITIAL_PIN} again.",
)


def _renewal_tell(record: KeyRecord) -> list[Said]:
    open_ = [r for r in record.renewals if r.state in ("requested", "pre_approved")]
    if not open_:
        return [RENEWAL_STEPS]
    latest = open_[-1]
    if latest.state == "requested":
        return [
            Said(
                f"证书更新申请 {latest.application_id} 已提交，等待窗口预审；预审通过后再到社会服务"
                "窗口现场办理。",
                f"Renewal application {latest.application_id} is waiting for the window's "
                "pre-review; then the visit in person.",
            )
        ]
    return [
        Said(
            f"证书更新申请 {latest.application_id} 已预审通过：请经办人携带《工商营业执照》原件、"
            "经办人身份证、介绍信和该Ukey，到二楼社会服务窗口现场办理。",
            f"Renewal application {latest.application_id} is pre-approved: the clerk brings the "
            "original business licence, their ID card, an introduction letter and the key to "
            "the social-service window.",
        )
    ]


def advise(record: KeyRecord) -> Advice:
    """The hotline's status card for one key (what to tell the caller, and whom to call)."""
    c = CONTACTS
    status = record.status
    tell: list[Said] = []
    contacts: list[Contact] = []
    supplier = _supplier(record)
    if status == KeyStatus.ISSUED:
        if record.supplier is None:
            tell.append(
                Said(
                    "钥匙已制好，等待窗口交EMS邮寄（两把钥匙一个包裹）。",
                    "The key is made and waits for the window to hand it to EMS (both keys in "
                    "one parcel).",
                )
            )
            contacts.append(c["card_window"])
        else:
            tell.append(
                Said(
                    "该钥匙向供应商购买，由供应商交付；请联系供应商。",
                    "This key was bought from a supplier, who delivers it.",
                )
            )
    elif status == KeyStatus.MAILED:
        ems = record.mailing.ems_number if record.mailing else None
        tell.append(
            Said(
                f"已交EMS寄出，快递单号 {ems or '—'}；请按单号查询物流，收到后记录签收。",
                f"Mailed by EMS, tracking number {ems or '—'}; follow the parcel with it.",
            )
        )
        contacts.append(c["card_window"])
    elif status == KeyStatus.DELIVERED:
        tell.append(
            Said(
                f"钥匙已签收。首次登录请用初始密码 {INITIAL_PIN}，并立即修改密码。",
                f"Delivered. Log in first with the initial PIN {INITIAL_PIN} and change it at "
                "once.",
            )
        )
        contacts.append(c["haikou_support"])
    elif status == KeyStatus.ACTIVE:
        if record.failed_attempts:
            left = record.attempts_left
            tell.append(
                Said(
                    f"已连续输错 {record.failed_attempts} 次密码，再错 {left} 次将锁定"
                    f"（累计输错{PIN_LOCK_THRESHOLD}次自动锁定）。请核对密码后再试。",
                    f"{record.failed_attempts} wrong PINs in a row; {left} more will lock the key.",
                )
            )
        tell.append(
            Said(
                "钥匙可正常使用。无法登录时：中国电子口岸执法系统需安装电子口岸浏览器客户端控件，使用"
                "IE11或Chrome并关闭拦截工具栏；单一窗口需安装单一窗口客户端控件，使用Chrome或Firefox。",
                "The key works. If the caller cannot log in: the E-Port enforcement system needs "
                "the E-Port client control with IE11 or Chrome (no blocking toolbars); the Single "
                "Window needs its own client control, with Chrome or Firefox.",
            )
        )
        contacts += [c["haikou_support"], c["data_centre"]]
    elif status == KeyStatus.LOCKED:
        tell.append(
            Said(
                f"密码连续输错{PIN_LOCK_THRESHOLD}次，钥匙已锁定。请持卡到制卡发卡窗口办理解锁"
                f"（或网上申请后邮寄解锁）；解锁后密码恢复为初始密码 {INITIAL_PIN}。",
                f"{PIN_LOCK_THRESHOLD} wrong PINs locked the key. Bring it to the card window to "
                f"unlock (or apply online and mail it); the PIN is then {INITIAL_PIN} again.",
            )
        )
        contacts.append(c["card_window"])
    elif status == KeyStatus.EXPIRED:
        tell.append(
            Said(
                f"证书已于 {china_date(record.valid_until)} 到期，钥匙不能使用。",
                f"The certificate expired on {china_date(record.valid_until)}.",
            )
        )
        tell += _renewal_tell(record)
        contacts += [c["service_window"], c["card_window"]]
    elif status == KeyStatus.LOST:
        tell.append(
            Said(
                "钥匙已挂失，不能再使用。补办：向附件5所列供应商购买新钥匙，到窗口办理补办。",
                "Reported lost; it cannot be used. Replacement: buy a new key from a listed "
                "supplier and have the window record the replacement.",
            )
        )
        contacts.append(c["card_window"])
    elif status == KeyStatus.FROZEN:
        reason = record.incident_reason or "—"
        tell.append(
            Said(
                f"钥匙已被数据分中心冻结（原因：{reason}），不能使用。",
                f"Frozen by the data sub-centre (reason: {reason}); it cannot be used.",
            )
        )
        contacts += [c["haikou_support"], c["card_window"]]
    elif status == KeyStatus.VOID:
        tell.append(
            Said(
                "钥匙已作废。如需新钥匙，请向供应商购买。",
                "The key is void. A new key is bought from a listed supplier.",
            )
        )
        contacts.append(c["card_window"])
    elif status == KeyStatus.REPLACED:
        tell.append(
            Said(
                f"钥匙已补办换卡，新卡号 {record.replaced_by or '—'}，请使用新卡。",
                f"Replaced by card {record.replaced_by or '—'}; use the new key.",
            )
        )
    if status not in (KeyStatus.EXPIRED, KeyStatus.VOID, KeyStatus.REPLACED, KeyStatus.LOST):
        open_renewal = any(r.state in ("requested", "pre_approved") for r in record.renewals)
        if open_renewal or 0 <= record.days_left <= RENEW_WITHIN_DAYS:
            if not open_renewal:
                tell.append(
                    Said(
                        f"证书还有 {record.days_left} 天到期，请尽快办理证书更新。",
                        f"{record.days_left} days of validity left: renew soon.",
                    )
                )
            tell += _renewal_tell(record)
            if c["service_window"] not in contacts:
                contacts.append(c["service_window"])
    if supplier is not None:
        tell.append(
            Said(
                f"钥匙硬件故障请联系供应商：{supplier.zh}。",
                f"Hardware faults: the supplier, {supplier.en}.",
            )
        )
    return Advice(
        status=status,
        headline=headline(record),
        kind=_kind(record),
        last=event_words(record.last_change.event),
        last_at=record.last_change.at,
        tell=tuple(tell),
        contacts=tuple(dict.fromkeys(contacts)),
        supplier=supplier,
    )
