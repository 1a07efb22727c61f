"""Bad input is a 422 problem naming the rule and the field; never a 500, never recorded."""

from __future__ import annotations

from typing import Any

import httpx

from api.http.schemas import examples
from tests.api.conftest import Api

REGISTRATION = {
    "uscc": examples.USCC,
    "name": examples.COMPANY,
    "customs_code": examples.CUSTOMS_CODE,
    "receipt_number": examples.RECEIPT_NUMBER,
}


def _problem(response: httpx.Response, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["rule"] == rule
    assert problem["type"] == f"urn:eport-ledger:problem:{rule}"
    assert problem["instance"] == response.request.url.path
    assert problem["request_id"] == response.headers["X-Request-ID"]
    return problem


def test_a_uscc_with_a_wrong_check_character_is_422_on_the_field(api: Api) -> None:
    bad = {**REGISTRATION, "uscc": "91350100M000100Y4Z"}
    problem = _problem(api.post("enterprise", "/v1/enterprises", bad), 422, "invalid_request")
    assert [e["field"] for e in problem["errors"]] == ["uscc"]
    assert api.services.ledger.position() == 0


def test_registration_without_the_customs_receipt_is_refused(api: Api) -> None:
    bad = {k: v for k, v in REGISTRATION.items() if k != "receipt_number"}
    problem = _problem(api.post("window", "/v1/enterprises", bad), 422, "invalid_request")
    assert problem["errors"] == [{"field": "receipt_number", "message": "Field required"}]
    blank = {**REGISTRATION, "receipt_number": "   "}
    _problem(api.post("window", "/v1/enterprises", blank), 422, "invalid_request")


def test_a_wrong_department_code_names_the_rule_and_the_field(api: Api) -> None:
    api.register()
    filing = {**examples.FILINGS["three_in_one"], "business_registration_dept_code": "440000"}
    path = f"/v1/enterprises/{examples.USCC}/filings/three_in_one"
    problem = _problem(api.post("enterprise", path, filing), 422, "wrong_department_code")
    assert problem["errors"][0]["field"] == "business_registration_dept_code"


def test_an_unknown_filing_kind_is_422_listing_the_four(api: Api) -> None:
    api.register()
    path = f"/v1/enterprises/{examples.USCC}/filings/tax"
    problem = _problem(api.post("enterprise", path, {}), 422, "unknown_filing_kind")
    assert "three_in_one, customs, forex, operator_preentry" in str(problem["detail"])


def test_the_wrong_lifecycle_step_is_named(enrolled: Api) -> None:
    path = f"/v1/keys/{examples.LP_CARD}/delivery"
    _problem(enrolled.post("enterprise", path), 422, "not_mailed")
    _problem(enrolled.post("window", f"/v1/keys/{examples.LP_CARD}/unlock"), 422, "not_locked")


def test_approval_before_the_four_filings_is_refused(api: Api) -> None:
    api.register()
    path = f"/v1/enterprises/{examples.USCC}/review"
    problem = _problem(api.post("window", path, {"decision": "approve"}), 422, "filings_incomplete")
    assert "three_in_one" in str(problem["detail"])
    _problem(api.post("window", path, {"decision": "reject"}), 422, "invalid_request")
    _problem(api.post("window", path, {"decision": "maybe"}), 422, "invalid_request")


def test_unknown_records_are_404_problems(api: Api) -> None:
    _problem(api.post("enterprise", f"/v1/keys/{examples.LP_CARD}/pin-change"), 404, "not_found")
    _problem(api.post("window", f"/v1/keys/{examples.LP_CARD}/unlock"), 404, "not_found")
    _problem(api.get("window", f"/v1/keys/{examples.LP_CARD}"), 404, "not_found")
    _problem(api.get("window", f"/v1/enterprises/{examples.USCC}"), 404, "not_found")
    _problem(api.get("window", "/v1/nothing/here"), 404, "not_found")


def test_registering_twice_is_a_conflict(api: Api) -> None:
    api.register()
    _problem(api.post("window", "/v1/enterprises", REGISTRATION), 409, "already_exists")


def test_malformed_json_unknown_fields_and_wrong_types_are_422(enrolled: Api) -> None:
    path = f"/v1/keys/{examples.LP_CARD}/pin-attempts"
    raw = enrolled.client.post(
        path,
        content=b'{"ok": tru',
        headers={**enrolled.as_("enterprise"), "Content-Type": "application/json"},
    )
    _problem(raw, 422, "invalid_request")
    extra = enrolled.post("enterprise", path, {"ok": True, "pin": "88888888"})
    problem = _problem(extra, 422, "invalid_request")
    assert problem["errors"][0]["field"] == "pin"
    _problem(enrolled.post("enterprise", path, {"ok": "perhaps"}), 422, "invalid_request")
    _problem(enrolled.post("enterprise", path), 422, "invalid_request")


def test_bad_query_parameters_are_422_naming_them(enrolled: Api) -> None:
    problem = _problem(enrolled.get("window", "/v1/keys", status="broken"), 422, "invalid_request")
    assert problem["errors"][0]["field"] == "query.status"
    _problem(enrolled.get("window", "/v1/keys", limit=0), 422, "invalid_request")
    _problem(enrolled.get("auditor", "/v1/audit/history/planet:earth"), 422, "invalid_stream_query")
    history = f"/v1/audit/history/enterprise:{examples.USCC}"
    _problem(enrolled.get("auditor", history, as_of="yesterday"), 422, "invalid_stream_query")
    _problem(
        enrolled.get("auditor", "/v1/audit/proofs/inclusion", index=1), 422, "proof_not_available"
    )


def test_a_position_beyond_the_ledger_is_422_not_a_wait(enrolled: Api) -> None:
    beyond = enrolled.services.ledger.position() + 1000
    path = f"/v1/keys/{examples.LP_CARD}"
    _problem(enrolled.get("window", path, min_position=beyond), 422, "min_position_beyond_ledger")


def test_a_body_over_the_limit_is_413_and_records_nothing(api: Api) -> None:
    big = b'{"x": "' + b"a" * 1_100_000 + b'"}'
    response = api.client.post(
        "/v1/enterprises",
        content=big,
        headers={**api.headers["window"], "Content-Type": "application/json"},
    )
    problem = _problem(response, 413, "body_too_large")
    assert problem["errors"][0]["field"] == "body"
    assert api.services.ledger.position() == 0
    assert api.client.get("/healthz").status_code == 200
