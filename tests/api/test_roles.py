"""Every route × every role: allowed, 401 without a valid token, 403 for the wrong role or for
another enterprise (404 for another enterprise's key: as if it did not exist). The table below
is the access contract; a route missing from it fails."""

from __future__ import annotations

from typing import Any

from api.http.middleware import route_templates
from api.http.schemas import examples
from tests.api.conftest import Api

E, W, H, A, AD = "enterprise", "window", "hotline", "auditor", "admin"
PROCESS = {E, W}
READ = {E, W, H, A}
EVERYONE = {E, W, H, A, AD}
USCC, LP = examples.USCC, examples.LP_CARD
INCIDENT = {"reason": "测试"}
KEY_ROUTES = ("/v1/keys/{card_no}",)
"""Routes of one key: an enterprise learns nothing of another's card numbers (404 for both)."""
OPEN_ROUTES = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}

# (method, route template, concrete path, body, roles allowed, enterprise limited to its own)
TABLE: list[tuple[str, str, str, Any, set[str], bool]] = [
    ("POST", "/v1/enterprises", "/v1/enterprises", {
        "uscc": USCC, "name": examples.COMPANY, "customs_code": examples.CUSTOMS_CODE,
        "receipt_number": examples.RECEIPT_NUMBER}, PROCESS, True),
    *[
        ("POST", f"/v1/enterprises/{{uscc}}/filings/{kind}",
         f"/v1/enterprises/{USCC}/filings/{kind}", body, PROCESS, True)
        for kind, body in examples.FILINGS.items()
    ],
    ("POST", "/v1/enterprises/{uscc}/filings/{kind}", f"/v1/enterprises/{USCC}/filings/other",
     {}, PROCESS, False),
    ("POST", "/v1/enterprises/{uscc}/review", f"/v1/enterprises/{USCC}/review",
     {"decision": "reject", "reason": "测试"}, {W}, False),
    ("PATCH", "/v1/enterprises/{uscc}", f"/v1/enterprises/{USCC}",
     {"business_address": "海南省海口市美兰区国兴大道5号", "authorising_card_no": LP},
     PROCESS, True),
    ("POST", "/v1/enterprises/{uscc}/operators", f"/v1/enterprises/{USCC}/operators",
     {"holder_kind": "operator", "holder": examples.OPERATOR, "authorising_card_no": LP},
     PROCESS, True),
    ("PUT", "/v1/enterprises/{uscc}/operators/{operator_id}/permissions",
     f"/v1/enterprises/{USCC}/operators/{{operator}}/permissions",
     {"permissions": ["payment.view"], "authorising_card_no": LP}, PROCESS, True),
    ("GET", "/v1/enterprises/{uscc}", f"/v1/enterprises/{USCC}", None, READ, True),
    ("GET", "/v1/enterprises", "/v1/enterprises?name=椰风", None, READ, False),
    ("POST", "/v1/enterprises/{uscc}/free-pair/mailing",
     f"/v1/enterprises/{USCC}/free-pair/mailing", examples.MAILING, {W}, False),
    ("POST", "/v1/keys", "/v1/keys", {
        "source": "supplier", "uscc": USCC, "card_no": examples.BOUGHT_CARD,
        "holder_id": "{operator}", "supplier": "aisino", "product": "smart_key"}, PROCESS, True),
    ("POST", "/v1/keys/{card_no}/mailing", f"/v1/keys/{LP}/mailing", examples.MAILING, {W}, False),
    ("POST", "/v1/keys/{card_no}/delivery", f"/v1/keys/{LP}/delivery", None, PROCESS, True),
    ("POST", "/v1/keys/{card_no}/pin-attempts", f"/v1/keys/{LP}/pin-attempts", {"ok": True},
     PROCESS, True),
    ("POST", "/v1/keys/{card_no}/pin-change", f"/v1/keys/{LP}/pin-change", None, PROCESS, True),
    ("POST", "/v1/keys/{card_no}/unlock", f"/v1/keys/{LP}/unlock", None, {W}, False),
    ("POST", "/v1/keys/{card_no}/renewal-applications", f"/v1/keys/{LP}/renewal-applications",
     None, PROCESS, True),
    ("POST", "/v1/keys/{card_no}/renewal-applications/{application_id}/pre-approval",
     f"/v1/keys/{LP}/renewal-applications/{LP}-R1/pre-approval", None, {W}, False),
    ("POST", "/v1/keys/{card_no}/renewal", f"/v1/keys/{LP}/renewal", {
        "application_id": f"{LP}-R1", "documents": examples.DOCUMENTS}, {W}, False),
    ("POST", "/v1/keys/{card_no}/loss-report", f"/v1/keys/{LP}/loss-report", INCIDENT,
     PROCESS, True),
    ("POST", "/v1/keys/{card_no}/freeze", f"/v1/keys/{LP}/freeze", INCIDENT, {W}, False),
    ("POST", "/v1/keys/{card_no}/unfreeze", f"/v1/keys/{LP}/unfreeze", INCIDENT, {W}, False),
    ("POST", "/v1/keys/{card_no}/void", f"/v1/keys/{LP}/void", INCIDENT, PROCESS, True),
    ("POST", "/v1/keys/{card_no}/replacement", f"/v1/keys/{LP}/replacement", {
        "new_card_no": examples.REPLACEMENT_CARD, "reason": "补办", "supplier": "aisino",
        "product": "ic_card"}, PROCESS, True),
    ("GET", "/v1/keys/{card_no}", f"/v1/keys/{LP}", None, READ, True),
    ("GET", "/v1/keys", f"/v1/keys?uscc={USCC}", None, READ, True),
    ("POST", "/v1/keys/search", "/v1/keys/search", {"uscc": USCC}, READ, False),
    ("POST", "/v1/personal-data/erasures", "/v1/personal-data/erasures",
     {"reason": "测试", "phone": "13800138000"}, {W, AD}, False),
    ("GET", "/v1/window/queue", "/v1/window/queue", None, {W, A}, False),
    ("GET", "/v1/window/expiring", "/v1/window/expiring", None, {W, A}, False),
    ("GET", "/v1/audit/events", "/v1/audit/events", None, {A}, False),
    ("GET", "/v1/audit/history/{stream}", f"/v1/audit/history/enterprise:{USCC}", None, {A},
     False),
    ("GET", "/v1/audit/checkpoints/latest", "/v1/audit/checkpoints/latest", None, EVERYONE,
     False),
    ("POST", "/v1/audit/checkpoints", "/v1/audit/checkpoints", None, {A, AD}, False),
    ("GET", "/v1/audit/public-key", "/v1/audit/public-key", None, EVERYONE, False),
    ("GET", "/v1/audit/proofs/inclusion", "/v1/audit/proofs/inclusion?index=1", None, EVERYONE,
     False),
    ("GET", "/v1/audit/proofs/consistency", "/v1/audit/proofs/consistency?from=1", None,
     EVERYONE, False),
    ("POST", "/v1/tokens", "/v1/tokens", {"role": "hotline"}, {AD}, False),
    ("GET", "/v1/tokens", "/v1/tokens", None, {AD}, False),
    ("DELETE", "/v1/tokens/{token_id}", "/v1/tokens/{token_id}", None, {AD}, False),
]  # fmt: skip


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def test_the_table_names_every_route(api: Api) -> None:
    app_routes = {
        (method, path)
        for path, methods in route_templates(api.client.app).values()
        for method in methods
        # the staff console (/ui) signs people in with sessions, not bearer tokens: its pages
        # are refused across roles in tests/console/test_security.py
        if not path.startswith(("/docs", "/openapi", "/redoc", "/ui"))
    }
    assert app_routes - OPEN_ROUTES == {(method, path) for method, path, *_ in TABLE}


def test_every_route_admits_exactly_its_roles_and_only_their_own_enterprise(
    enrolled: Api,
) -> None:
    api = enrolled
    operator = api.get(W, f"/v1/enterprises/{USCC}", min_position=api.services.ledger.position())
    names = {
        "operator": next(o["id"] for o in operator.json()["operators"] if o["kind"] == "operator"),
        "token_id": api.services.tokens.issue("hotline").record.token_id,
    }
    api.ok(api.post(A, "/v1/audit/checkpoints"), 201)
    principals = {
        "no token": {},
        "unknown token": {"Authorization": "Bearer epl_" + "x" * 43},
        "not a bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
        **{role: api.as_(role) for role in (E, W, H, A, AD)},
        "other enterprise": api.as_("other_enterprise"),
    }
    wrong: list[str] = []
    for method, template, path, body, allowed, own_only in TABLE:
        path, body = _fill(path, names), _fill(body, names)
        for who, headers in principals.items():
            response = api.client.request(method, path, json=body, headers=headers)
            status = response.status_code
            rule = response.json().get("rule", "") if response.content else ""
            if who in ("no token", "unknown token", "not a bearer"):
                expected = {401}
            elif who == "other enterprise":
                # another enterprise's key answers as a missing one (404); elsewhere 403
                refusal = 404 if own_only and template.startswith(KEY_ROUTES) else 403
                expected = {refusal} if own_only or E not in allowed else set()
            else:
                expected = set() if who in allowed else {403}
            if expected and status not in expected:
                wrong.append(f"{method} {path} as {who}: {status} {rule}, expected {expected}")
            if not expected and status in (401, 403):
                wrong.append(f"{method} {path} as {who}: {status} {rule}, expected it allowed")
            if status == 401:
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.status_code < 500, (method, path, who, response.text)
    assert not wrong, "\n".join(wrong)
