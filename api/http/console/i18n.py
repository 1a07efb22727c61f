"""The console's words in Chinese (the default) and English: page text, the window's stages, the
rules that refuse a command and the fields they name.

The page text is data, kept in `page_text.json` (installed with the package, read once at
import); the words of refusals and field errors stay here, beside the logic that picks them.

Key statuses, events and the hotline's advice come from `projections.key_status.advice`, the
table the API shares (`key_card.py` lays them out); form, filing and supplier labels from `domain`.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final

import orjson

from api.http.refusals import REFUSALS

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"


def _page_text() -> dict[str, tuple[str, str]]:
    """The page text from `page_text.json` beside this module: each key's Chinese and English."""
    document = files("api.http.console").joinpath("page_text.json").read_bytes()
    return {key: (words["zh"], words["en"]) for key, words in orjson.loads(document).items()}


TEXT: Final = _page_text()
"""Page text by key: a label, a heading, a hint or a `done_…` message, as (zh, en)."""


RULES: Final[dict[str, tuple[str, str]]] = {
    # Where a page says a rule differently from the API's title (api/http/refusals.py); every
    # other rule is shown in the words of that one list.
    "free_pair_already_issued": (
        "免费Ukey已发放过（每次入网一次）。",
        "The free pair was issued already (once per enrollment).",
    ),
    "renewal_document_missing": ("材料不齐：", "Documents missing: "),
    "invalid": ("格式不正确。", "Not valid."),
    "missing": ("必填。", "Required."),
    "idempotency_key_reused": ("表单已提交过，请刷新页面。", "This form was sent already."),
}

PYDANTIC: Final[dict[str, tuple[str, str]]] = {
    "missing": ("必填。", "Required."),
    "string_too_short": ("必填。", "Required."),
    "string_too_long": ("内容过长。", "Too long."),
    "string_pattern_mismatch": ("格式不正确。", "Wrong format."),
    "date_from_datetime_parsing": ("日期格式不正确。", "Not a date."),
    "date_parsing": ("日期格式不正确。", "Not a date."),
    "enum": ("请选择列表中的一项。", "Choose one of the list."),
    "literal_error": ("请选择列表中的一项。", "Choose one of the list."),
    "int_parsing": ("应为整数。", "A whole number."),
    "greater_than_equal": ("数值过小。", "Too small."),
    "less_than_equal": ("数值过大。", "Too large."),
}

_CARD_NO: Final = ("卡号最多20位，只含数字、字母和“-”。", "Up to 20 digits, letters and '-'.")
_CERTIFICATE_NUMBER: Final = ("证书编号为16位十六进制字符。", "16 hex characters.")
_REFERENCE: Final = ("只能包含字母、数字和“-”。", "Letters, digits and '-' only.")

_SIX_DIGITS: Final = ("应为6位数字。", "6 digits.")
_PHONE: Final = (
    "电话号码无效：手机号11位，固定电话需带区号（如 0898-68516652）。",
    "Not a phone number: an 11-digit mobile, or a landline with its area code.",
)

FIELD_HINTS: Final[dict[str, tuple[str, str]]] = {
    "ems_tracking_number": (
        "快递单号无效：应为13位国内EMS单号（以1、8或9开头），"
        "或如 EA123456785CN 的国际单号（校验位须正确）。",
        "Not an EMS number: 13 domestic digits starting 1, 8 or 9, or an S10 number such as "
        "EA123456785CN with a correct check digit.",
    ),
    "recipient_phone": _PHONE,
    "postcode": ("邮编应为6位数字。", "A postcode is 6 digits."),
    "legal_person_card_no": _CARD_NO,
    "operator_card_no": _CARD_NO,
    "new_card_no": _CARD_NO,
    "certificate_number": _CERTIFICATE_NUMBER,
    "legal_person_certificate_number": _CERTIFICATE_NUMBER,
    "operator_certificate_number": _CERTIFICATE_NUMBER,
    "case_number": _REFERENCE,
    "phone": _PHONE,
    "fax": _PHONE,
    "id_number": (
        "证件号码无效或重复：居民身份证号码为18位，末位校验码须正确；其他证件为1-30位字母和数字；"
        "同一人只填写一次。",
        "Not a valid ID number, or given twice: a resident ID is 18 characters with a correct "
        "check digit; other documents 1-30 letters and digits.",
    ),
    "birth_date": (
        "出生日期须与居民身份证号码中的一致。",
        "The date of birth must be the one in the resident ID number.",
    ),
    "email": ("电子信箱格式不正确。", "Not an e-mail address."),
    "business_registration_dept_code": _SIX_DIGITS,
    "forex_bureau_code": _SIX_DIGITS,
    "commerce_authority_code": ("应为4位数字。", "4 digits."),
    "customs_code": ("海关编码为10位，按备案回执填写。", "10 characters, as on the receipt."),
    "receipt_number": (
        "请填写备案回执编号（字母、数字和“-”）或回执日期。",
        "Give the receipt's number (letters, digits, '-') or its date.",
    ),
    "order_number": _REFERENCE,
}


def _in(pair: tuple[str, str], lang: str) -> str:
    """One of a (zh, en) pair: English for `en`, else Chinese."""
    return pair[1] if lang == "en" else pair[0]


def text(key: str, lang: str) -> str:
    """The page text `key` in `lang` (the key itself when unknown)."""
    pair = TEXT.get(key)
    return key if pair is None else _in(pair, lang)


def _refusal_words(rule: str) -> tuple[str, str] | None:
    """A rule's title from the API's one list of refusals, as a sentence in each language."""
    refusal = REFUSALS.get(rule)
    return None if refusal is None else (f"{refusal.zh}。", f"{refusal.en}.")


def rule_message(rule: str, detail: str, lang: str) -> str:
    """A refusal in words: the rule's sentence (with the detail where it adds the specifics)."""
    pair = RULES.get(rule) or _refusal_words(rule)
    if pair is None:
        return detail
    said = _in(pair, lang)
    if rule in ("renewal_document_missing", "wrong_department_code", "key_not_usable"):
        return f"{said}{detail}" if rule == "renewal_document_missing" else f"{said}（{detail}）"
    return said


def field_message(field: str, error_type: str, detail: str, lang: str) -> str:
    """A field's validation error in words: the field's own hint, or the error type's."""
    pair = FIELD_HINTS.get(field.rsplit(".", 1)[-1])
    if pair is None or error_type in ("missing", "string_too_short"):
        pair = PYDANTIC.get(error_type)
    if pair is None:
        return detail if lang == "en" else f"格式不正确（{detail}）"
    return _in(pair, lang)
