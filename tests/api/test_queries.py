"""Queries: the hotline's masked lookup, search, overview, window queue, read-your-writes."""

from __future__ import annotations

from api.http.schemas import examples
from tests.api.conftest import Api

LP, OP = examples.LP_CARD, examples.OP_CARD
LEGAL_PERSON = examples.FILINGS["three_in_one"]["materials"]["ic_card_registration_form"][
    "legal_person"
]


def test_the_hotline_sees_personal_data_masked_the_window_sees_it_whole(enrolled: Api) -> None:
    api = enrolled
    position = api.services.ledger.position()
    hotline = api.ok(api.get("hotline", f"/v1/keys/{LP}", min_position=position))
    window = api.ok(api.get("window", f"/v1/keys/{LP}"))
    id_number, phone = LEGAL_PERSON["id_number"], LEGAL_PERSON["phone"]
    assert window["holder"]["id_number"] == id_number
    assert window["holder"]["phone"] == phone
    assert hotline["holder"]["id_number"] == id_number[:4] + "*" * 10 + id_number[-4:]
    assert hotline["holder"]["phone"] == f"{phone[3:6]}****{phone[-4:]}"
    assert id_number not in str(api.get("hotline", "/v1/keys", uscc=examples.USCC).json())
    overview = api.get("hotline", f"/v1/enterprises/{examples.USCC}").text
    assert id_number not in overview
    assert phone not in overview


def test_keys_are_found_by_enterprise_holder_and_status_a_page_at_a_time(enrolled: Api) -> None:
    api = enrolled
    api.settle()
    by_uscc = api.ok(api.get("hotline", "/v1/keys", uscc=examples.USCC))
    assert [k["card_no"] for k in by_uscc["items"]] == [LP, OP]
    assert (by_uscc["next_cursor"], by_uscc["truncated"]) == (None, False)
    first = api.ok(api.get("window", "/v1/keys", limit=1))
    assert [k["card_no"] for k in first["items"]] == [LP]
    assert (first["next_cursor"], first["truncated"]) == (LP, True)
    second = api.ok(api.get("window", "/v1/keys", limit=1, after=first["next_cursor"]))
    assert [k["card_no"] for k in second["items"]] == [OP]
    assert (second["next_cursor"], second["truncated"]) == (None, False)  # a full last page
    holder = api.ok(api.get("hotline", "/v1/keys", holder=LEGAL_PERSON["name"]))
    assert [k["card_no"] for k in holder["items"]] == [LP]
    active = api.ok(api.get("hotline", "/v1/keys", status="active"))
    assert [k["card_no"] for k in active["items"]] == [LP]
    assert api.ok(api.get("hotline", "/v1/keys", status="locked"))["items"] == []


def test_an_enterprise_searches_only_its_own_keys(enrolled: Api) -> None:
    api = enrolled
    api.settle()
    own = api.ok(api.get("enterprise", "/v1/keys"))
    assert {k["uscc"] for k in own["items"]} == {examples.USCC}
    assert api.ok(api.get("other_enterprise", "/v1/keys"))["items"] == []
    refused = api.get("other_enterprise", "/v1/keys", uscc=examples.USCC)
    assert (refused.status_code, refused.json()["rule"]) == (403, "other_enterprise")
    # Another enterprise's key answers exactly as a key that does not exist.
    theirs = api.get("other_enterprise", f"/v1/keys/{LP}")
    missing = api.get("other_enterprise", "/v1/keys/0000000000000009")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["rule"] == missing.json()["rule"] == "not_found"


def test_a_query_with_min_position_sees_the_command_just_answered(enrolled: Api) -> None:
    api = enrolled
    for _ in range(5):
        answer = api.ok(api.post("enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": False}))
    key = api.ok(api.get("hotline", f"/v1/keys/{OP}", min_position=answer["position"]))
    assert key["status"] == "locked"
    assert key["last_change"]["ledger_index"] == answer["position"]
    queue = api.ok(api.get("window", "/v1/window/queue", stage="locked_keys"))
    assert [item["card_no"] for item in queue["items"]] == [OP]


def test_the_overview_shows_filings_review_keys_and_holders(api: Api) -> None:
    api.register()
    api.file_all()
    rejected = api.ok(
        api.post(
            "window",
            f"/v1/enterprises/{examples.USCC}/review",
            {"decision": "reject", "reason": "附件3 收件人联系电话无法接通"},
        )
    )
    overview = api.ok(
        api.get("enterprise", f"/v1/enterprises/{examples.USCC}", min_position=rejected["position"])
    )
    assert overview["review_state"] == "rejected"
    assert overview["review"]["reason"] == "附件3 收件人联系电话无法接通"
    assert {f["state"] for f in overview["filings"]} == {"rejected"}
    api.ok(
        api.post(
            "enterprise",
            f"/v1/enterprises/{examples.USCC}/filings/three_in_one",
            examples.FILINGS["three_in_one"],
        )
    )
    api.approve()
    api.issue_pair()
    api.settle()
    overview = api.ok(api.get("window", f"/v1/enterprises/{examples.USCC}"))
    assert overview["review_state"] == "approved"
    assert overview["free_pair"] == [LP, OP]
    assert [k["card_no"] for k in overview["keys"]] == [LP, OP]
    assert sorted(o["kind"] for o in overview["operators"]) == ["legal_person", "operator"]
    queue = api.ok(api.get("window", "/v1/window/queue", stage="issued_awaiting_mailing"))
    assert [item["card_no"] for item in queue["items"]] == [LP, OP]
    expiring = api.ok(api.get("auditor", "/v1/window/expiring", within_days=3660))
    assert {item["card_no"] for item in expiring["items"]} == {LP, OP}
