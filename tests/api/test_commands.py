"""Commands over HTTP: answers, Idempotency-Key, If-Match, the principal in every event."""

from __future__ import annotations

from api.http.schemas import examples
from tests.api.conftest import Api

LP, OP = examples.LP_CARD, examples.OP_CARD
STRANGER = "0d3e3f6e-3b8e-5b53-8f7a-2f0d1f3c9a10"


def test_a_creation_answers_201_with_location_etag_and_the_ledger_position(api: Api) -> None:
    before = api.services.ledger.position()  # the fixture's token grants
    response = api.post(
        "enterprise",
        "/v1/enterprises",
        {
            "uscc": examples.USCC,
            "name": examples.COMPANY,
            "customs_code": examples.CUSTOMS_CODE,
            "receipt_number": examples.RECEIPT_NUMBER,
        },
    )
    assert response.status_code == 201
    assert response.json() == {"id": response.json()["id"], "version": 1, "position": before + 1}
    assert response.headers["Location"] == f"/v1/enterprises/{examples.USCC}"
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Content-Type"] == "application/json"


def test_a_retry_under_the_same_idempotency_key_gives_the_first_answer_and_records_nothing(
    enrolled: Api,
) -> None:
    api = enrolled
    first = api.post(
        "enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": False}, Idempotency_Key="k1"
    )
    size = api.services.ledger.position()
    again = api.post(
        "enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": False}, Idempotency_Key="k1"
    )
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.services.ledger.position() == size
    api.settle()
    key = api.ok(api.get("window", f"/v1/keys/{OP}"))
    assert key["failed_attempts"] == 1


def test_a_replayed_creation_is_201_again_with_the_same_extra_fields(api: Api) -> None:
    api.register()
    api.file_all()
    api.approve()
    body = {
        "source": "free_pair",
        "uscc": examples.USCC,
        "legal_person_card_no": LP,
        "operator_card_no": OP,
    }
    first = api.post("window", "/v1/keys", body, Idempotency_Key="pair")
    again = api.post("window", "/v1/keys", body, Idempotency_Key="pair")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert first.json()["legal_person_card_no"] == LP


def test_the_same_idempotency_key_with_another_body_is_refused(enrolled: Api) -> None:
    api = enrolled
    api.ok(api.post("enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": True}, Idempotency_Key="k"))
    size = api.services.ledger.position()
    other = api.post(
        "enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": False}, Idempotency_Key="k"
    )
    assert other.status_code == 422
    assert other.json()["rule"] == "idempotency_key_reused"
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert api.services.ledger.position() == size


def test_idempotency_keys_of_different_principals_do_not_collide(enrolled: Api) -> None:
    api = enrolled
    mine = api.post("enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": True}, Idempotency_Key="x")
    theirs = api.post("window", f"/v1/keys/{OP}/pin-attempts", {"ok": True}, Idempotency_Key="x")
    assert mine.status_code == theirs.status_code == 200
    assert theirs.json()["version"] == mine.json()["version"] + 1


def test_if_match_with_a_stale_version_is_412_with_the_current_version(enrolled: Api) -> None:
    api = enrolled
    current = api.ok(api.post("enterprise", f"/v1/keys/{LP}/pin-change"))["version"]
    stale = api.post("enterprise", f"/v1/keys/{LP}/pin-attempts", {"ok": True}, If_Match='"1"')
    assert stale.status_code == 412
    problem = stale.json()
    assert problem["rule"] == "version_mismatch"
    assert problem["current_version"] == current
    assert stale.headers["ETag"] == f'"{current}"'
    assert stale.headers["Content-Type"] == "application/problem+json"
    fresh = api.post(
        "enterprise", f"/v1/keys/{LP}/pin-attempts", {"ok": True}, If_Match=f'"{current}"'
    )
    assert fresh.status_code == 200
    assert fresh.json()["version"] == current + 1
    unquoted = api.post(
        "enterprise", f"/v1/keys/{LP}/pin-attempts", {"ok": True}, If_Match=str(current + 1)
    )
    assert unquoted.status_code == 200


def test_a_malformed_if_match_is_422_naming_the_header(enrolled: Api) -> None:
    response = enrolled.post("enterprise", f"/v1/keys/{LP}/pin-change", If_Match="yesterday")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "header.If-Match", "message": response.json()["detail"]}
    ]


def test_the_fifth_wrong_pin_locks_the_key_and_the_sixth_attempt_is_refused(enrolled: Api) -> None:
    api = enrolled
    for _ in range(5):
        api.ok(api.post("enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": False}))
    refused = api.post("enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": True})
    assert refused.status_code == 422
    assert refused.json()["rule"] == "key_locked"
    api.settle()
    key = api.ok(api.get("hotline", f"/v1/keys/{OP}"))
    assert (key["status"], key["attempts_left"]) == ("locked", 0)
    api.ok(api.post("window", f"/v1/keys/{OP}/unlock"))
    api.ok(api.post("enterprise", f"/v1/keys/{OP}/pin-attempts", {"ok": True}))


def test_every_event_records_the_principal_and_the_request_id(enrolled: Api) -> None:
    api = enrolled
    clerk = api.token("window", name="window-clerk-07")
    response = api.client.post(
        f"/v1/keys/{LP}/freeze",
        json={"reason": "冒用嫌疑"},
        headers={"Authorization": f"Bearer {clerk}", "X-Request-ID": "req-freeze-1"},
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-freeze-1"
    position = response.json()["position"]
    entries = api.ok(
        api.get("auditor", "/v1/audit/events", after=position - 1, min_position=position)
    )
    (entry,) = entries["items"]
    assert entry["event_type"] == "KeyFrozen"
    assert entry["actor"] == {"principal_id": "window-clerk-07", "role": "window"}
    assert entry["request_id"] == "req-freeze-1"
    everyone = api.ok(api.get("auditor", "/v1/audit/events", limit=500))["items"]
    window = next(
        r.principal_id
        for r in api.services.tokens.records()
        if r.role == "window" and r.principal_id != "window-clerk-07"
    )
    assert {e["actor"]["principal_id"] for e in everyone} == {
        "eport-ledger",  # the token grants of the fixture (api/http/auth.py, SERVER)
        f"enterprise:{examples.USCC}",
        window,
        "window-clerk-07",
    }


def test_a_bought_key_needs_an_approved_enterprise_and_one_of_its_holders(enrolled: Api) -> None:
    api = enrolled
    api.settle()
    overview = api.ok(api.get("enterprise", f"/v1/enterprises/{examples.USCC}"))
    holder = next(o["id"] for o in overview["operators"] if o["kind"] == "operator")
    body = {
        "source": "supplier",
        "uscc": examples.USCC,
        "card_no": examples.BOUGHT_CARD,
        "holder_id": holder,
        "supplier": "guangdong_nanfang",
        "product": "smart_key",
    }
    created = api.post("enterprise", "/v1/keys", body)
    assert created.status_code == 201
    assert created.headers["Location"] == f"/v1/keys/{examples.BOUGHT_CARD}"
    stranger = {**body, "card_no": "0730004601000099", "holder_id": STRANGER}
    refused = api.post("enterprise", "/v1/keys", stranger)
    assert (refused.status_code, refused.json()["rule"]) == (422, "unknown_holder")


def test_only_the_window_issues_the_free_pair(api: Api) -> None:
    api.register()
    api.file_all()
    api.approve()
    body = {
        "source": "free_pair",
        "uscc": examples.USCC,
        "legal_person_card_no": LP,
        "operator_card_no": OP,
    }
    refused = api.post("enterprise", "/v1/keys", body)
    assert (refused.status_code, refused.json()["rule"]) == (403, "role_not_allowed")
    api.ok(api.post("window", "/v1/keys", body), 201)
    again = api.post("window", "/v1/keys", body)
    assert (again.status_code, again.json()["rule"]) == (422, "free_pair_already_issued")
