"""The hotline's answer card: every status has words and advice, in both languages, and names
only the guide's contacts — the four numbers of 附件4, or a supplier of 附件5 by name, without a
number (the guide lists none)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from domain.forms import SUPPLIER_LABELS, KeyKind, Supplier
from domain.ukey.status import KeyStatus
from projections.key_status.advice import CONTACTS, RENEW_WITHIN_DAYS, Advice, advice_for

GUIDE = {
    "0898-65203080": "海南省政务中心制卡发卡办理窗口",
    "0898-65203123": "海南省政务服务中心二楼社会服务窗口",
    "010-95198": "中国电子口岸数据中心热线",
    "0898-68516652": "海口数据分中心技术支持热线",
}


def card(status: KeyStatus, **overrides: Any) -> Advice:
    state: dict[str, Any] = {
        "status": status,
        "kind": KeyKind.LEGAL_PERSON,
        "supplier": None,
        "days_left": 2000,
        "failed_attempts": 0,
        "initial_pin": False,
        "replaced_by": None,
        "certificate_update_needed": False,
    }
    return advice_for(**(state | overrides))


def test_the_contacts_are_the_guides() -> None:
    assert {c.phone: c.name_zh for c in CONTACTS} == GUIDE


@pytest.mark.parametrize(
    ("status", "kind", "supplier"),
    list(itertools.product(KeyStatus, KeyKind, [None, *Supplier])),
)
def test_every_status_has_words_advice_and_someone_to_call(
    status: KeyStatus, kind: KeyKind, supplier: Supplier | None
) -> None:
    advice = card(status, kind=kind, supplier=supplier, replaced_by="8009")
    assert advice.status == status.value
    assert advice.status_zh
    assert advice.status_en
    assert advice.tell_zh
    assert len(advice.tell_zh) == len(advice.tell_en)
    assert advice.call
    for contact in advice.call:
        if contact.phone is None:
            assert supplier is not None
            assert contact.name_zh == SUPPLIER_LABELS[supplier]
        else:
            assert GUIDE[contact.phone] == contact.name_zh


def test_each_status_sends_the_caller_where_the_guide_does() -> None:
    first = {status: card(status).call[0].phone for status in KeyStatus}
    assert first == {
        KeyStatus.ISSUED: "0898-65203080",
        KeyStatus.MAILED: "0898-65203080",
        KeyStatus.DELIVERED: "0898-68516652",
        KeyStatus.ACTIVE: "0898-68516652",
        KeyStatus.LOCKED: "0898-65203080",  # 解锁 at the card window
        KeyStatus.LOST: "0898-65203080",
        KeyStatus.FROZEN: "0898-68516652",
        KeyStatus.VOID: "0898-65203080",
        KeyStatus.REPLACED: "0898-65203080",
        KeyStatus.EXPIRED: "0898-65203123",  # 证书更新 at the social-service window
    }


def test_an_expired_legal_person_key_is_told_the_renewal_and_its_four_documents() -> None:
    (renewal,) = card(KeyStatus.EXPIRED).tell_zh
    for document in (
        "《工商营业执照》原件",
        "经办人身份证",
        "介绍信",
        "法人Ukey",
        "wssp.hainan.gov.cn",
    ):
        assert document in renewal


def test_a_bought_key_names_its_supplier_and_no_number() -> None:
    advice = card(KeyStatus.ISSUED, kind=KeyKind.OPERATOR, supplier=Supplier.AISINO)
    assert advice.status_zh == "已向供应商购买，在持卡人手中，尚未使用"
    assert (advice.call[0].name_zh, advice.call[0].phone) == (
        "航天信息股份有限公司（深圳航天信息有限公司）",
        None,
    )


def test_the_card_adds_what_else_is_due() -> None:
    new_pin = card(KeyStatus.DELIVERED, initial_pin=True, failed_attempts=3)
    assert any("88888888" in line for line in new_pin.tell_zh)
    assert any("再输错2次将锁定" in line for line in new_pin.tell_zh)
    due = card(KeyStatus.ACTIVE, days_left=RENEW_WITHIN_DAYS)
    assert any("天后到期" in line for line in due.tell_zh)
    assert due.call[-1].phone == "0898-65203123"
    outdated = card(KeyStatus.ACTIVE, certificate_update_needed=True)
    assert any("法定代表人已变更" in line for line in outdated.tell_zh)
    assert len({c.code for c in outdated.call}) == len(outdated.call)
