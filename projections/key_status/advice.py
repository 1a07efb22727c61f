"""The hotline's answer card: for a key's status, what to tell the caller and whom to call.

From the Hainan guide: the contacts of 附件4 section 四 (the card-making and card-issuing window,
the service centre's social-service window, the China E-Port data centre hotline, the Haikou data
sub-centre's technical support; their numbers are in `contacts.toml`), the renewal path of 附件4
(4), and the suppliers of 附件5 — named as the guide names them; it lists no phone numbers for
them, so none is given. Every sentence in Chinese (what the hotline says) and English. Computed at
query time from the key's record: it names no person and holds no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, ConfigDict

from domain.data_files import coded_tables
from domain.forms import SUPPLIER_LABELS, KeyKind, Supplier
from domain.ukey.status import PIN_LOCK_THRESHOLD, KeyStatus

INITIAL_PIN: Final = "88888888"
RENEW_WITHIN_DAYS: Final = 30
"""A usable key this close to the end of its validity is told to renew."""


class Contact(BaseModel):
    """Whom the caller is told to call: a number from the guide, or a supplier (no number)."""

    model_config = ConfigDict(frozen=True)

    code: str
    phone: str | None
    """None for a supplier: the guide lists their shops, not their phones."""
    name_zh: str
    name_en: str


class Advice(BaseModel):
    """What the hotline tells a caller about a key, in Chinese (zh) and English (en)."""

    model_config = ConfigDict(frozen=True)

    status: str
    status_zh: str
    status_en: str
    tell_zh: tuple[str, ...]
    tell_en: tuple[str, ...]
    call: tuple[Contact, ...]
    """Most relevant first."""


_BY_CODE: Final = coded_tables(__package__, "contacts.toml", Contact)
CARD_WINDOW: Final = _BY_CODE["card_window"]
SERVICE_WINDOW: Final = _BY_CODE["service_window"]
DATA_CENTRE: Final = _BY_CODE["data_centre"]
HAIKOU_SUPPORT: Final = _BY_CODE["haikou_support"]
CONTACTS: Final = tuple(_BY_CODE.values())
"""The numbers the hotline hands out (附件4 section 四)."""


def supplier_contact(supplier: Supplier) -> Contact:
    """The supplier a key was bought from (附件5), by the name the guide gives."""
    return Contact(
        code=f"supplier:{supplier.value}",
        phone=None,
        name_zh=SUPPLIER_LABELS[supplier],
        name_en=f"the supplier the key was bought from: {SUPPLIER_LABELS[supplier]}",
    )


@dataclass(frozen=True, slots=True)
class Said:
    """One sentence in both languages."""

    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        """The sentence in `lang` (zh unless `en`)."""
        return self.en if lang == "en" else self.zh


STATUS_WORDS: Final = {
    KeyStatus.ISSUED: Said(
        "已发放，尚在窗口，未寄出", "issued, still at the window, not mailed yet"
    ),
    KeyStatus.MAILED: Said("已交EMS寄出，尚未送达", "handed to EMS, not delivered yet"),
    KeyStatus.DELIVERED: Said("已送达持卡人，尚未使用", "delivered to its holder, not used yet"),
    KeyStatus.ACTIVE: Said("正常使用中", "in use"),
    KeyStatus.LOCKED: Said("已锁定（累计输错5次密码）", "locked (five wrong PINs in a row)"),
    KeyStatus.LOST: Said("已挂失，不能使用", "reported lost: it works for nothing"),
    KeyStatus.FROZEN: Said("已被冻结，不能使用", "frozen: it works for nothing"),
    KeyStatus.VOID: Said("已作废，不能使用", "void: it works for nothing"),
    KeyStatus.REPLACED: Said("已被新钥匙替换（补办），不能使用", "replaced by a new key"),
    KeyStatus.EXPIRED: Said("证书已过期，不能使用", "its certificate expired"),
}
"""Each status in words."""

EVENT_WORDS: Final = {
    "KeyIssued": Said("发卡", "key issued"),
    "KeyMailed": Said("EMS寄出", "mailed by EMS"),
    "KeyDelivered": Said("送达", "delivered"),
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
    "KeyUnfrozen": Said("解冻", "freeze lifted"),
    "KeyVoided": Said("作废", "voided"),
    "KeyReplaced": Said("补办换卡", "replaced"),
}
"""What each key event means to a caller."""


def status_words(status: str) -> Said:
    """A key status in words (the value itself when unknown)."""
    try:
        return STATUS_WORDS[KeyStatus(status)]
    except ValueError:
        return Said(status, status)


def event_words(event: str) -> Said:
    """An event type in words (the type name itself when unknown)."""
    return EVENT_WORDS.get(event, Said(event, event))


BOUGHT_ISSUED: Final = Said(
    "已向供应商购买，在持卡人手中，尚未使用",
    "bought from a supplier, in the holder's hands, not used yet",
)

FIRST_LOGIN: Final = Said(
    f"初始密码为{INITIAL_PIN}（8个8），首次登录中国电子口岸执法系统时请修改密码。",
    f"The initial PIN is {INITIAL_PIN} (eight eights); change it at the first login to the "
    "E-Port enforcement system.",
)
LOGIN_HELP: Final = Said(
    "登录、控件或浏览器问题：执法系统需安装“中国电子口岸浏览器客户端控件”（电子口岸网站下载中心），"
    "建议使用IE11或谷歌浏览器；请联系海口数据分中心技术支持。",
    "For login, client-control or browser problems: the enforcement system needs the E-Port "
    "browser client control (download centre of the E-Port website), with IE11 or Chrome; call "
    "the Haikou data sub-centre's technical support.",
)
RENEWAL_LEGAL_PERSON: Final = Said(
    "请在海南省政务服务网（wssp.hainan.gov.cn）申请法人Ukey证书更新，预审通过后携带《工商营业执照》"
    "原件、经办人身份证、介绍信和法人Ukey到海南省政务服务中心二楼社会服务窗口办理；更新后密码恢复为"
    f"{INITIAL_PIN}。",
    "Apply online for the certificate renewal on the Hainan government service site "
    "(wssp.hainan.gov.cn); once pre-approved, bring the original business licence, the clerk's "
    "ID card, an introduction letter and the legal-person key to the social-service window on the "
    f"2nd floor of the service centre. The PIN is {INITIAL_PIN} again afterwards.",
)
RENEWAL_OPERATOR: Final = Said(
    "请申请证书更新（年审），预审通过后到海南省政务服务中心二楼社会服务窗口办理。",
    "Apply for the certificate renewal; once pre-approved, complete it at the social-service "
    "window on the 2nd floor of the service centre.",
)


def advice_for(
    *,
    status: KeyStatus,
    kind: KeyKind,
    supplier: Supplier | None,
    days_left: int,
    failed_attempts: int,
    initial_pin: bool,
    replaced_by: str | None,
    certificate_update_needed: bool,
) -> Advice:
    """The answer card of a key in this state."""
    tell: list[Said] = []
    call: list[Contact] = []
    words = STATUS_WORDS[status]
    renewal = RENEWAL_LEGAL_PERSON if kind is KeyKind.LEGAL_PERSON else RENEWAL_OPERATOR
    bought = None if supplier is None else supplier_contact(supplier)
    if status is KeyStatus.ISSUED and bought is not None:
        words = BOUGHT_ISSUED
        tell += [FIRST_LOGIN, Said("钥匙故障请联系供应商。", "A faulty key: call its supplier.")]
        call += [bought, HAIKOU_SUPPORT]
    elif status is KeyStatus.ISSUED:
        tell.append(
            Said(
                "钥匙尚在窗口，将通过EMS寄出（或到窗口领取）；送达并登记后方可使用。",
                "The key is still at the window; it goes out by EMS (or is collected at the "
                "window) and is used once its delivery is recorded.",
            )
        )
        call.append(CARD_WINDOW)
    elif status is KeyStatus.MAILED:
        tell.append(
            Said(
                "钥匙已寄出（快递单号见邮寄信息），收到后请登记送达，方可使用。",
                "The key is in the EMS parcel (see the mailing's EMS number); record its "
                "delivery once it arrives, then it is used.",
            )
        )
        call.append(CARD_WINDOW)
    elif status in (KeyStatus.DELIVERED, KeyStatus.ACTIVE):
        if initial_pin:
            tell.append(FIRST_LOGIN)
        if failed_attempts:
            left = PIN_LOCK_THRESHOLD - failed_attempts
            tell.append(
                Said(
                    f"已连续输错{failed_attempts}次密码，再输错{left}次将锁定。",
                    f"{failed_attempts} wrong PIN(s) in a row: {left} more lock the key.",
                )
            )
        tell.append(LOGIN_HELP)
        call += [HAIKOU_SUPPORT, DATA_CENTRE]
        if bought is not None:
            call.append(bought)
    elif status is KeyStatus.LOCKED:
        tell.append(
            Said(
                f"请到制卡发卡窗口办理解锁，解锁后密码恢复为初始密码{INITIAL_PIN}。",
                f"The card window unlocks it; the PIN is then the initial {INITIAL_PIN} again.",
            )
        )
        call.append(CARD_WINDOW)
    elif status is KeyStatus.LOST:
        tell.append(
            Said(
                "请办理补办：向供应商（附件5）购买新钥匙并申请补办。",
                "Replace it (补办): buy a new key from a listed supplier (附件5) and apply.",
            )
        )
        call.append(CARD_WINDOW)
    elif status is KeyStatus.FROZEN:
        tell.append(
            Said(
                "钥匙因信息不实或冒用嫌疑被冻结（原因见记录）；经核实后由窗口解除冻结，或办理补办。",
                "Frozen for false information or suspected impersonation (see the reason); the "
                "window lifts the freeze once it is cleared, or the key is replaced.",
            )
        )
        call += [HAIKOU_SUPPORT, CARD_WINDOW]
    elif status is KeyStatus.VOID:
        tell.append(
            Said(
                "钥匙已作废；如需钥匙，请向供应商（附件5）购买。",
                "The key is void; a new one is bought from a listed supplier (附件5).",
            )
        )
        call.append(CARD_WINDOW)
    elif status is KeyStatus.REPLACED:
        tell.append(Said(f"请使用新钥匙 {replaced_by}。", f"Use the new key {replaced_by}."))
        call.append(CARD_WINDOW)
    else:  # expired
        tell.append(renewal)
        call.append(SERVICE_WINDOW)
    if certificate_update_needed:
        tell.append(
            Said(
                "法定代表人已变更，法人卡证书需更新：请申请证书更新（或补办法人卡）。",
                "The legal representative changed: the legal-person key's certificate must be "
                "updated (a certificate renewal, or a replacement key).",
            )
        )
        call.append(SERVICE_WINDOW)
    if status in (KeyStatus.DELIVERED, KeyStatus.ACTIVE, KeyStatus.LOCKED) and (
        0 <= days_left <= RENEW_WITHIN_DAYS
    ):
        tell += [
            Said(
                f"证书将在{days_left}天后到期，请尽快申请证书更新。",
                f"The certificate expires in {days_left} day(s): renew it now.",
            ),
            renewal,
        ]
        call.append(SERVICE_WINDOW)
    unique = tuple(dict.fromkeys(call))
    return Advice(
        status=status.value,
        status_zh=words.zh,
        status_en=words.en,
        tell_zh=tuple(said.zh for said in tell),
        tell_en=tuple(said.en for said in tell),
        call=unique,
    )
