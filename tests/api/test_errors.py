"""Bad input is a 422 problem naming the rule and the field; never a 500, never recorded."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

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
    before = api.services.ledger.position()  # the fixture's token grants
    bad = {**REGISTRATION, "uscc": "91350100M000100Y4Z"}
    problem = _problem(api.post("enterprise", "/v1/enterprises", bad), 422, "invalid_request")
    assert [e["field"] for e in problem["errors"]] == ["uscc"]
    assert api.services.ledger.position() == before


def test_registration_without_the_customs_receipt_is_refused_by_its_rule(api: Api) -> None:
    before = api.services.ledger.position()  # the fixture's token grants
    for field in ("customs_code", "receipt_number"):
        missing = {k: v for k, v in REGISTRATION.items() if k != field}
        for bad in (missing, {**REGISTRATION, field: "   "}, {**REGISTRATION, field: None}):
            response = api.post("window", "/v1/enterprises", bad)
            problem = _problem(response, 422, "customs_receipt_required")
            assert [e["field"] for e in problem["errors"]] == [field]
    malformed = {**REGISTRATION, "customs_code": "4601200001"}
    problem = _problem(api.post("window", "/v1/enterprises", malformed), 422,
                       "invalid_customs_code")  # fmt: skip
    assert [e["field"] for e in problem["errors"]] == ["customs_code"]
    assert api.services.ledger.position() == before


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


def test_the_wrong_lifecycle_step_is_named(api: Api) -> None:
    api.register()
    api.file_all()
    api.approve()
    api.issue_pair()
    key = f"/v1/keys/{examples.LP_CARD}"
    _problem(api.post("enterprise", f"{key}/delivery"), 422, "not_mailed")
    before = api.services.ledger.position()
    problem = _problem(api.post("enterprise", f"{key}/pin-attempts", {"ok": True}), 422,
                       "key_not_delivered")  # fmt: skip
    assert problem["errors"][0]["field"] == "status"
    _problem(api.post("enterprise", f"{key}/pin-change"), 422, "key_not_delivered")
    _problem(api.post("window", f"{key}/unlock"), 422, "not_locked")
    assert api.services.ledger.position() == before


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
    before = api.services.ledger.position()  # the fixture's token grants
    big = b'{"x": "' + b"a" * 1_100_000 + b'"}'
    response = api.client.post(
        "/v1/enterprises",
        content=big,
        headers={**api.headers["window"], "Content-Type": "application/json"},
    )
    problem = _problem(response, 413, "body_too_large")
    assert problem["errors"][0]["field"] == "body"
    assert api.services.ledger.position() == before
    assert api.client.get("/healthz").status_code == 200


# -- every form reports at the field's own path (docs/api.md "Conventions") --------------------

THREE = examples.FILINGS["three_in_one"]
FORM = ("materials", "ic_card_registration_form")
BAD_RESIDENT_ID = "460105198206150241"  # the check character of 46010519820615024X is X


def _with(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A deep copy of the document with the value at `path` replaced."""
    copy = orjson.loads(orjson.dumps(document))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


def _only_error_at(api: Api, response: httpx.Response, field: str) -> str:
    problem = _problem(response, 422, "invalid_request")
    assert [error["field"] for error in problem["errors"]] == [field], problem["errors"]
    message: str = problem["errors"][0]["message"]
    return message


def test_a_bad_resident_id_in_a_form_is_reported_at_its_own_field_and_only_there(api: Api) -> None:
    api.register()
    before = api.services.ledger.position()
    base = f"/v1/enterprises/{examples.USCC}/filings"
    for person in ("legal_person", "operator"):
        path = (*FORM, person, "id_number")
        body = _with(THREE, path, BAD_RESIDENT_ID)
        response = api.post("enterprise", f"{base}/three_in_one", body)
        assert "check" in _only_error_at(api, response, ".".join(path))
    preentry = _with(examples.FILINGS["operator_preentry"], ("operators", 0, "id_number"),
                     "460106199009120131")  # fmt: skip
    response = api.post("enterprise", f"{base}/operator_preentry", preentry)
    _only_error_at(api, response, "operators.0.id_number")  # not also "operators: too short"
    twice = {"operators": [examples.OPERATOR, examples.OPERATOR]}
    response = api.post("enterprise", f"{base}/operator_preentry", twice)
    assert "twice" in _only_error_at(api, response, "operators.1.id_number")
    birth = _with(THREE, (*FORM, "operator", "birth_date"), "1990-09-13")
    response = api.post("enterprise", f"{base}/three_in_one", birth)
    _only_error_at(api, response, ".".join(map(str, (*FORM, "operator", "birth_date"))))
    wrong_authority = _with(THREE, (*FORM, "customs_permissions"), ["forex_receipt.entry"])
    response = api.post("enterprise", f"{base}/three_in_one", wrong_authority)
    _only_error_at(api, response, ".".join((*FORM, "customs_permissions")))
    customs = {"customs_code": examples.CUSTOMS_CODE, "company_name": examples.COMPANY}
    _only_error_at(api, api.post("enterprise", f"{base}/customs", customs), "receipt_number")
    assert api.services.ledger.position() == before


def test_a_tagged_request_reports_at_the_fields_the_client_sent(enrolled: Api) -> None:
    api = enrolled
    before = api.services.ledger.position()
    holder = _with(examples.OPERATOR, ("id_number",), BAD_RESIDENT_ID)
    path = f"/v1/enterprises/{examples.USCC}/operators"
    body = {"holder_kind": "operator", "holder": holder, "authorising_card_no": examples.LP_CARD}
    _only_error_at(api, api.post("enterprise", path, body), "holder.id_number")
    unknown = {**body, "holder_kind": "director", "holder": examples.OPERATOR}
    _only_error_at(api, api.post("enterprise", path, unknown), "holder_kind")
    bought = {"source": "supplier", "uscc": examples.USCC, "card_no": "0730 0046",
              "holder_id": STRANGER_ID, "supplier": "aisino", "product": "ic_card"}  # fmt: skip
    _only_error_at(api, api.post("enterprise", "/v1/keys", bought), "card_no")
    review = f"/v1/enterprises/{examples.USCC}/review"
    _only_error_at(api, api.post("window", review, {"decision": "reject"}), "reason")
    assert api.services.ledger.position() == before


STRANGER_ID = "0d3e3f6e-3b8e-5b53-8f7a-2f0d1f3c9a10"


def test_no_text_field_takes_a_control_character_and_no_name_an_invisible_one(api: Api) -> None:
    api.register()
    before = api.services.ledger.position()
    base = f"/v1/enterprises/{examples.USCC}/filings/three_in_one"
    operator = (*FORM, "operator")
    cases: list[tuple[tuple[str, ...], str]] = [
        ((*operator, "email"), "wanglei\x00@example.cn"),  # accepted before: U+0000
        ((*operator, "position"), "报关\x07专员"),
        ((*operator, "name"), "王\u200b磊"),  # zero-width space
        ((*operator, "name"), "王\u202e磊"),  # right-to-left override
        ((*FORM, "legal_person", "name"), "吴\u2066娜\u2069"),  # isolates
        (("legal_representative",), "吴\u200d娜"),  # zero-width joiner
        (("company_name",), "海南椰风\u200f贸易有限公司"),  # right-to-left mark
        (("materials", "express_handover_form", "recipient_name"), "\ufeff吴娜"),
    ]
    for path, value in cases:
        response = api.post("enterprise", base, _with(THREE, path, value))
        _only_error_at(api, response, ".".join(path))
    assert api.services.ledger.position() == before
    fine = _with(THREE, (*operator, "position"), "报关专员（进出口）")
    api.ok(api.post("enterprise", base, fine))
