"""The guide's rules over HTTP, on both backends: the one-parcel handover form (附件3), a key used
only once it reached its holder, extra keys only for new operators or replacements (附件5), and
a freeze the window can lift. Every refusal names its rule and field, and records nothing."""

from __future__ import annotations

import random
from typing import Any

import httpx

from api.http.schemas import examples
from domain.identifier_generators import make_uscc
from tests.api.conftest import Api
from tests.api.test_personal_data import found_in

LP, OP = examples.LP_CARD, examples.OP_CARD
KEY = "/v1/keys/{}"
PARCEL = f"/v1/enterprises/{examples.USCC}/free-pair/mailing"


def _refused(api: Api, response: httpx.Response, status: int, rule: str, field: str) -> None:
    """A refusal naming the rule and the field (the caller checks that nothing was stored)."""
    assert response.status_code == status, response.text
    problem: dict[str, Any] = response.json()
    assert (problem["rule"], [e["field"] for e in problem["errors"]]) == (rule, [field])


def _issued(api: Api) -> None:
    api.register()
    api.file_all()
    api.approve()
    api.issue_pair()


def _another_enterprise_with_its_pair(api: Api) -> str:
    """A second Hainan enterprise, enrolled by the window, with free cards 88…91 and 88…92."""
    uscc = make_uscc(random.Random(46), region_prefix="4601")
    body = {
        "uscc": uscc,
        "name": "海南另一贸易有限公司",
        "customs_code": examples.CUSTOMS_CODE,
        "receipt_number": examples.RECEIPT_NUMBER,
    }
    api.ok(api.post("window", "/v1/enterprises", body), 201)
    for kind, filing in examples.FILINGS.items():
        api.ok(api.post("window", f"/v1/enterprises/{uscc}/filings/{kind}", filing))
    api.ok(api.post("window", f"/v1/enterprises/{uscc}/review", {"decision": "approve"}))
    pair = {
        "source": "free_pair",
        "uscc": uscc,
        "legal_person_card_no": "8800004601000091",
        "operator_card_no": "8800004601000092",
    }
    api.ok(api.post("window", "/v1/keys", pair), 201)
    return uscc


def _key(api: Api, card: str, position: int) -> dict[str, Any]:
    return api.ok(api.get("window", KEY.format(card), min_position=position))


# -- 附件3: one parcel, one form, one EMS number ----------------------------------


def test_the_free_pair_is_mailed_in_one_parcel_with_one_ems_number(api: Api) -> None:
    _issued(api)
    answer = api.ok(api.post("window", PARCEL, examples.MAILING))
    assert (answer["legal_person_card_no"], answer["operator_card_no"]) == (LP, OP)
    lp, op = _key(api, LP, answer["position"]), _key(api, OP, answer["position"])
    assert lp["status"] == op["status"] == "mailed"
    assert lp["mailing"] == op["mailing"]
    assert lp["mailing"]["ems_number"] == examples.MAILING["ems_tracking_number"]
    page = api.get("auditor", "/v1/audit/events", after=answer["position"] - 2)
    entries = api.ok(page)["items"]
    assert [(e["event_type"], e["data"]["details"]["ems_tracking_number"]) for e in entries] == [
        ("KeyMailed", examples.MAILING["ems_tracking_number"])
    ] * 2  # one command, one append: both keys, one form
    other_parcel = {**examples.MAILING, "ems_tracking_number": "RR473124829GB"}
    before = api.services.ledger.position()
    _refused(api, api.post("window", PARCEL, other_parcel), 422, "already_mailed", "mailing")
    _refused(
        api,
        api.post("window", f"/v1/keys/{OP}/mailing", other_parcel),
        422,
        "already_mailed",
        "mailing",
    )
    assert api.services.ledger.position() == before


def test_the_parcels_recipient_and_signatories_are_stored_sealed(api: Api) -> None:
    _issued(api)
    api.ok(api.post("window", PARCEL, examples.MAILING))
    api.settle()
    mailing = examples.MAILING
    recipient = {"name": mailing["recipient_name"], "phone": mailing["recipient_phone"],
                 "id_number": mailing["recipient_address"]}  # fmt: skip
    database = api.services.ledger.database
    assert found_in(database, recipient) == []
    stored = b"".join(e.state for e in database.iter_entries() if e.topic == "KeyMailed")
    for signature in ("approver", "express_window_clerk", "postal_clerk"):
        assert mailing[signature]["name"].encode() not in stored
    lp = api.ok(api.get("window", KEY.format(LP)))  # revealed for the window
    assert lp["mailing"]["recipient_name"] == mailing["recipient_name"]


def test_a_card_that_is_not_the_enterprises_own_free_pair_is_refused_naming_the_field(
    api: Api,
) -> None:
    _issued(api)
    _another_enterprise_with_its_pair(api)
    before = api.services.ledger.position()
    theirs = {**examples.MAILING, "operator_card_no": "8800004601000092"}
    _refused(
        api, api.post("window", PARCEL, theirs), 422, "card_number_mismatch", "operator_card_no"
    )
    swapped = {**examples.MAILING, "legal_person_card_no": OP, "operator_card_no": LP}
    _refused(
        api,
        api.post("window", PARCEL, swapped),
        422,
        "card_number_mismatch",
        "legal_person_card_no",
    )
    # the deprecated one-key route enforces the pair the same way
    _refused(
        api,
        api.post("window", f"/v1/keys/{LP}/mailing", theirs),
        422,
        "card_number_mismatch",
        "operator_card_no",
    )
    assert api.services.ledger.position() == before


def test_the_deprecated_one_key_route_mails_the_whole_parcel(api: Api) -> None:
    _issued(api)
    response = api.post("window", f"/v1/keys/{OP}/mailing", examples.MAILING)
    answer = api.ok(response)
    assert response.headers["Deprecation"] == "true"
    assert _key(api, OP, answer["position"])["version"] == answer["version"]
    assert _key(api, LP, answer["position"])["status"] == "mailed"


# -- a key is used only once it reached its holder ------------------------------


def test_a_key_that_has_not_reached_its_holder_is_not_used(api: Api) -> None:
    _issued(api)
    before = api.services.ledger.position()
    for attempt in ({"ok": True}, {"ok": False}):
        response = api.post("enterprise", f"{KEY.format(LP)}/pin-attempts", attempt)
        _refused(api, response, 422, "key_not_delivered", "status")
    response = api.post("enterprise", f"{KEY.format(LP)}/pin-change")
    _refused(api, response, 422, "key_not_delivered", "status")
    assert api.services.ledger.position() == before
    api.ok(api.post("window", PARCEL, examples.MAILING))
    response = api.post("enterprise", f"{KEY.format(LP)}/pin-attempts", {"ok": True})
    _refused(api, response, 422, "key_not_delivered", "status")  # still with EMS
    api.ok(api.post("enterprise", f"{KEY.format(LP)}/delivery"))
    used = api.ok(api.post("enterprise", f"{KEY.format(LP)}/pin-attempts", {"ok": True}))
    assert _key(api, LP, used["position"])["status"] == "active"


def test_the_window_hands_the_keys_over_and_then_they_are_not_mailed(api: Api) -> None:
    _issued(api)
    path = f"{KEY.format(LP)}/delivery"
    response = api.post("enterprise", path, {"channel": "window"})
    _refused(api, response, 403, "role_not_allowed", "actor")
    handed = api.ok(api.post("window", path, {"channel": "window"}))
    key = _key(api, LP, handed["position"])
    assert (key["status"], key["delivery_channel"], key["mailing"]) == ("delivered", "window", None)
    assert key["delivered_at"] is not None
    before = api.services.ledger.position()
    _refused(api, api.post("window", PARCEL, examples.MAILING), 422, "already_delivered",
             "delivered_at")  # fmt: skip
    assert api.services.ledger.position() == before
    used = api.ok(api.post("enterprise", f"{KEY.format(LP)}/pin-change"))
    assert _key(api, LP, used["position"])["status"] == "active"


def test_a_mailed_key_is_not_handed_over_at_the_window(api: Api) -> None:
    _issued(api)
    api.ok(api.post("window", PARCEL, examples.MAILING))
    response = api.post("window", f"{KEY.format(OP)}/delivery", {"channel": "window"})
    _refused(api, response, 422, "already_mailed", "channel")


# -- 附件5: extra keys for new operators, or to replace faulty ones ---------------


def _legal_person_holder(api: Api) -> str:
    overview = api.ok(
        api.get(
            "window",
            f"/v1/enterprises/{examples.USCC}",
            min_position=api.services.ledger.position(),
        )
    )
    return str(next(o["id"] for o in overview["operators"] if o["kind"] == "legal_person"))


def test_a_second_legal_person_key_for_the_holder_is_refused_a_replacement_is_the_way(
    enrolled: Api,
) -> None:
    api = enrolled
    holder = _legal_person_holder(api)
    bought = {
        "source": "supplier",
        "uscc": examples.USCC,
        "card_no": examples.BOUGHT_CARD,
        "holder_id": holder,
        "supplier": "aisino",
        "product": "smart_key",
    }
    before = api.services.ledger.position()
    for role in ("enterprise", "window"):
        response = api.post(role, "/v1/keys", bought)
        _refused(api, response, 422, "legal_person_key_exists", "holder_id")
    assert api.services.ledger.position() == before
    replacement = {
        "new_card_no": examples.REPLACEMENT_CARD,
        "reason": "更换故障UKEY",
        "supplier": "aisino",
        "product": "smart_key",
    }
    replaced = api.ok(api.post("enterprise", f"{KEY.format(LP)}/replacement", replacement), 201)
    new = _key(api, examples.REPLACEMENT_CARD, replaced["position"])
    assert (new["kind"], new["replaces"], new["status"]) == ("legal_person", LP, "issued")
    response = api.post("enterprise", "/v1/keys", bought)  # the replacement is theirs now
    _refused(api, response, 422, "legal_person_key_exists", "holder_id")
    voided = {"reason": "卡号遗失，作废"}
    api.ok(api.post("enterprise", f"{KEY.format(examples.REPLACEMENT_CARD)}/void", voided))
    api.ok(api.post("enterprise", "/v1/keys", bought), 201)  # none left: a key may be bought


# -- 冻结 and 解冻 ------------------------------------------------------------------


def test_the_window_lifts_a_freeze_and_history_and_views_show_it(enrolled: Api) -> None:
    api = enrolled
    path = KEY.format(LP)
    response = api.post("window", f"{path}/unfreeze", {"reason": "核实无误"})
    _refused(api, response, 422, "not_frozen", "status")
    api.ok(api.post("window", f"{path}/freeze", {"reason": "冒用嫌疑"}))
    response = api.post("enterprise", f"{path}/unfreeze", {"reason": "核实无误"})
    assert response.status_code == 403
    lifted = api.ok(api.post("window", f"{path}/unfreeze", {"reason": "经核实信息真实，解除冻结"}))
    key = _key(api, LP, lifted["position"])
    assert (key["status"], key["incident_reason"]) == ("active", None)
    history = api.ok(
        api.get("auditor", f"/v1/audit/history/key:{LP}", min_position=lifted["position"])
    )
    assert [e["type"] for e in history["events"]][-2:] == ["KeyFrozen", "KeyUnfrozen"]
    assert history["events"][-1]["body"]["reason"] == "经核实信息真实，解除冻结"
    api.ok(api.post("enterprise", f"{path}/pin-attempts", {"ok": True}))


# -- 变更: a new legal representative outdates the legal-person key's certificate ---------------


def _queue(api: Api, position: int) -> list[str | None]:
    page = api.get("window", "/v1/window/queue", stage="certificates_to_update",
                   min_position=position)  # fmt: skip
    return [item["card_no"] for item in api.ok(page)["items"]]


def _change_representative(api: Api, name: str, card: str = LP) -> int:
    body = {"legal_representative": name, "authorising_card_no": card}
    answer = api.ok(api.client.patch(f"/v1/enterprises/{examples.USCC}", json=body,
                                     headers=api.as_("enterprise")))  # fmt: skip
    return int(answer["position"])


def _renew(api: Api, card: str) -> int:
    applied = api.ok(api.post("enterprise", f"{KEY.format(card)}/renewal-applications"), 201)
    application = applied["application_id"]
    api.ok(
        api.post("window", f"{KEY.format(card)}/renewal-applications/{application}/pre-approval")
    )
    renewal = {"application_id": application, "documents": examples.DOCUMENTS}
    return int(api.ok(api.post("window", f"{KEY.format(card)}/renewal", renewal))["position"])


def test_a_new_legal_representative_is_a_window_task_until_the_certificate_is_updated(
    enrolled: Api,
) -> None:
    api = enrolled
    position = api.ok(api.post("enterprise", f"{KEY.format(LP)}/pin-change"))["position"]
    assert _queue(api, position) == []
    position = _change_representative(api, "林海")
    assert _queue(api, position) == [LP]  # the operator key's certificate is not the person's
    hotline = api.ok(api.get("hotline", KEY.format(LP), min_position=position))
    assert hotline["certificate_update_needed"] is True
    assert any("法定代表人已变更" in line for line in hotline["advice"]["tell_zh"])
    assert "0898-65203123" in [c["phone"] for c in hotline["advice"]["call"]]
    operator = api.ok(api.get("hotline", KEY.format(OP), min_position=position))
    assert operator["certificate_update_needed"] is False
    position = _renew(api, LP)
    assert _queue(api, position) == []
    assert (
        api.ok(api.get("window", KEY.format(LP), min_position=position))[
            "certificate_update_needed"
        ]
        is False
    )
    position = _change_representative(api, "吴娜")  # and back: a new certificate again
    assert _queue(api, position) == [LP]
    replacement = {"new_card_no": examples.REPLACEMENT_CARD, "reason": "法定代表人变更，补办",
                   "supplier": "aisino", "product": "smart_key"}  # fmt: skip
    replaced = api.ok(api.post("enterprise", f"{KEY.format(LP)}/replacement", replacement), 201)
    assert _queue(api, replaced["position"]) == []
    new = api.ok(api.get("window", KEY.format(examples.REPLACEMENT_CARD),
                         min_position=replaced["position"]))  # fmt: skip
    assert new["certificate_update_needed"] is False


def test_an_address_change_is_no_certificate_task(enrolled: Api) -> None:
    api = enrolled
    body = {"business_address": "海南省海口市美兰区国兴大道5号", "authorising_card_no": LP}
    answer = api.ok(api.client.patch(f"/v1/enterprises/{examples.USCC}", json=body,
                                     headers=api.as_("enterprise")))  # fmt: skip
    assert _queue(api, answer["position"]) == []


# -- the hotline's answer card ----------------------------------------------------------------


GUIDE_NUMBERS = {"0898-65203080", "0898-65203123", "010-95198", "0898-68516652"}


def test_the_hotline_answer_says_what_to_tell_and_whom_to_call_for_each_status(api: Api) -> None:
    _issued(api)
    position = api.services.ledger.position()

    def card(number: str = LP, role: str = "hotline") -> dict[str, Any]:
        advice: dict[str, Any] = api.ok(api.get(role, KEY.format(number),
                                                min_position=position))["advice"]  # fmt: skip
        assert advice["tell_zh"]
        assert len(advice["tell_zh"]) == len(advice["tell_en"])
        assert {c["phone"] for c in advice["call"]} <= GUIDE_NUMBERS | {None}
        return advice

    issued = card()
    assert (issued["status"], issued["status_zh"]) == ("issued", "已发放，尚在窗口，未寄出")
    assert [c["phone"] for c in issued["call"]] == ["0898-65203080"]
    position = api.ok(api.post("window", PARCEL, examples.MAILING))["position"]
    assert card()["status"] == "mailed"
    position = api.ok(api.post("enterprise", f"{KEY.format(LP)}/delivery"))["position"]
    delivered = card()
    assert any("88888888" in line for line in delivered["tell_zh"])
    assert delivered["call"][0]["phone"] == "0898-68516652"
    for _ in range(5):
        position = api.ok(api.post("enterprise", f"{KEY.format(LP)}/pin-attempts",
                                   {"ok": False}))["position"]  # fmt: skip
    locked = card()
    assert locked["status"] == "locked"
    assert any("解锁" in line for line in locked["tell_zh"])
    assert [c["phone"] for c in locked["call"]] == ["0898-65203080"]
    assert card(role="enterprise") == locked  # the enterprise reads the same card
    position = api.ok(api.post("window", f"{KEY.format(LP)}/unlock"))["position"]
    replacement = {"new_card_no": examples.REPLACEMENT_CARD, "reason": "芯片损坏",
                   "supplier": "beijing_tongfang", "product": "smart_key"}  # fmt: skip
    position = api.ok(api.post("enterprise", f"{KEY.format(LP)}/replacement", replacement),
                      201)["position"]  # fmt: skip
    replaced = card()
    assert any(examples.REPLACEMENT_CARD in line for line in replaced["tell_zh"])
    bought = card(examples.REPLACEMENT_CARD)
    supplier = next(c for c in bought["call"] if c["phone"] is None)
    assert supplier["name_zh"].startswith("北京同方信息安全技术股份有限公司")


# -- the window finds enterprises by name, a page at a time -----------------------------------


def test_the_window_searches_enterprises_by_name_a_page_at_a_time(api: Api) -> None:
    api.register()
    other = _another_enterprise_with_its_pair(api)
    third = make_uscc(random.Random(7), region_prefix="4601")
    body = {"uscc": third, "name": "海口椰风物流有限公司", "customs_code": examples.CUSTOMS_CODE,
            "receipt_number": "HZ2"}  # fmt: skip
    position = api.ok(api.post("window", "/v1/enterprises", body), 201)["position"]
    everyone = api.ok(api.get("window", "/v1/enterprises", min_position=position))
    assert len(everyone["items"]) == 3
    assert (everyone["next_cursor"], everyone["truncated"]) == (None, False)
    found = api.ok(api.get("window", "/v1/enterprises", name="椰风", min_position=position))
    assert sorted(e["name"] for e in found["items"]) == [
        "海南椰风贸易有限公司",
        "海口椰风物流有限公司",
    ]
    assert [e["uscc"] for e in found["items"]] == sorted(e["uscc"] for e in found["items"])
    first = api.ok(api.get("window", "/v1/enterprises", name="椰风", limit=1))
    assert first["next_cursor"] == first["items"][0]["uscc"]
    assert first["truncated"] is True
    rest = api.ok(api.get("window", "/v1/enterprises", name="椰风", limit=1,
                          after=first["next_cursor"]))  # fmt: skip
    assert rest["truncated"] is False
    assert [e["uscc"] for e in first["items"] + rest["items"]] == [
        e["uscc"] for e in found["items"]
    ]
    approved = api.ok(api.get("hotline", "/v1/enterprises", review_state="approved"))
    assert [(e["uscc"], e["free_pair"]) for e in approved["items"]] == [
        (other, ["8800004601000091", "8800004601000092"])
    ]
    assert "legal_representative" not in approved["items"][0]  # no person's data in a list
    mine = api.ok(api.get("enterprise", "/v1/enterprises", name="有限公司"))
    assert [e["uscc"] for e in mine["items"]] == [examples.USCC]  # an enterprise finds itself
    none = api.ok(api.get("window", "/v1/enterprises", name="100%_"))
    assert none["items"] == []  # LIKE's wildcards are literal
    response = api.get("window", "/v1/enterprises", name="椰\x00风")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.name"
