"""The enterprise's filing forms, on both backends: a form without the session's CSRF token is
refused and records nothing; an enterprise files only for itself (the page takes no USCC, and
one posted in the form is refused); a refused rule is shown in words with the form as typed;
“add an operator” records nothing."""

from __future__ import annotations

from typing import Any

from api.http.schemas import examples
from tests.console.conftest import PASSWORD, Console, csrf_of, sign_in

FOREX = "/ui/enterprise/filings/forex"
NEIGHBOUR = "91460100MA5T4KQX5F"
"""Another enterprise of the region (Hainan)."""


def _enterprise_staff(console: Console, uscc: str, login: str) -> Any:
    """A signed-in browser of an enterprise's own staff account."""
    store = console.api.client.app.state.console.staff  # type: ignore[attr-defined]
    store.create(login=login, role="enterprise", display_name="椰风", password=PASSWORD, uscc=uscc)
    browser = console.browser()
    assert sign_in(browser, login, PASSWORD).status_code == 303
    return browser


def _forex_state(console: Console, uscc: str) -> str:
    console.api.settle()
    overview = console.api.ok(console.api.get("window", f"/v1/enterprises/{uscc}"))
    return next(f["state"] for f in overview["filings"] if f["kind"] == "forex")


def test_a_filing_form_without_the_sessions_csrf_token_is_refused(console: Console) -> None:
    console.api.register()
    browser = _enterprise_staff(console, examples.USCC, "yefeng")
    page = browser.get(FOREX)
    assert page.status_code == 200
    assert "企业外汇备案申请" in page.text
    token = csrf_of(page.text)
    form = {"forex_bureau_code": "460000", "company_name": examples.COMPANY}
    before = console.api.services.ledger.position()
    for extra in ({}, {"csrf": "forged-" + token}):
        answer = browser.post(FOREX, data={**form, **extra}, follow_redirects=False)
        assert answer.status_code == 403
        assert "页面已过期" in answer.text
    assert console.api.services.ledger.position() == before
    accepted = browser.post(FOREX, data={**form, "csrf": token}, follow_redirects=False)
    assert accepted.status_code == 303
    assert accepted.headers["location"].startswith("/ui/enterprise?at=")
    assert _forex_state(console, examples.USCC) == "submitted"
    # the form in English (the choice is kept in a cookie, as on every page)
    assert "Forex bureau code" in browser.get(FOREX + "?lang=en").text


def test_an_enterprise_files_only_for_itself(console: Console) -> None:
    console.api.register()
    neighbour = {"Authorization": f"Bearer {console.api.token('enterprise', NEIGHBOUR)}"}
    other = console.api.client.post(
        "/v1/enterprises",
        headers=neighbour,
        json={
            "uscc": NEIGHBOUR,
            "name": "海南椰林贸易有限公司",
            "customs_code": examples.CUSTOMS_CODE,
            "receipt_number": examples.RECEIPT_NUMBER,
        },
    )
    console.api.ok(other, 201)
    browser = _enterprise_staff(console, NEIGHBOUR, "yelin")
    token = csrf_of(browser.get(FOREX).text)
    form = {"forex_bureau_code": "460000", "company_name": "海南椰林贸易有限公司", "csrf": token}
    before = console.api.services.ledger.position()
    # naming the other enterprise in the form is refused, and records nothing
    aimed = browser.post(FOREX, data={**form, "uscc": examples.USCC}, follow_redirects=False)
    assert aimed.status_code == 422
    assert console.api.services.ledger.position() == before
    # the filing goes to the signed-in enterprise, never to the other one
    filed = browser.post(FOREX, data=form, follow_redirects=False)
    assert filed.status_code == 303
    assert _forex_state(console, NEIGHBOUR) == "submitted"
    assert _forex_state(console, examples.USCC) == "missing"
    # a window clerk's session may not use the enterprise's form
    clerk = console.sign_in("window")
    clerk_token = csrf_of(clerk.get("/ui/window").text)
    refused = clerk.post(FOREX, data={**form, "csrf": clerk_token}, follow_redirects=False)
    assert refused.status_code == 403


def test_a_refused_rule_is_shown_in_words_with_the_form_as_typed(console: Console) -> None:
    console.api.register()
    browser = _enterprise_staff(console, examples.USCC, "yefeng")
    token = csrf_of(browser.get(FOREX).text)
    form = {"forex_bureau_code": "110000", "company_name": "海南椰风贸易（集团）", "csrf": token}
    answer = browser.post(FOREX, data=form)
    assert answer.status_code == 422
    assert "部门代码不是本地区的" in answer.text
    assert 'value="海南椰风贸易（集团）"' in answer.text
    assert 'value="110000"' in answer.text
    assert _forex_state(console, examples.USCC) == "missing"


def test_adding_an_operator_shows_one_more_block_and_records_nothing(console: Console) -> None:
    console.api.register()
    browser = _enterprise_staff(console, examples.USCC, "yefeng")
    path = "/ui/enterprise/filings/operator_preentry"
    token = csrf_of(browser.get(path).text)
    operator = examples.FILINGS["operator_preentry"]["operators"][0]
    typed = {f"operators.0.{name}": value or "" for name, value in operator.items()}
    before = console.api.services.ledger.position()
    more = browser.post(
        path, data={**typed, "csrf": token, "operator_count": "1", "add": "operator"}
    )
    assert more.status_code == 200
    assert 'name="operators.1.name"' in more.text
    assert f'value="{operator["name"]}"' in more.text
    assert console.api.services.ledger.position() == before
    # the second block left empty is not an operator
    filed = browser.post(
        path, data={**typed, "csrf": token, "operator_count": "2"}, follow_redirects=False
    )
    assert filed.status_code == 303, filed.text
    console.api.settle()
    overview = console.api.ok(console.api.get("enterprise", f"/v1/enterprises/{examples.USCC}"))
    states = {f["kind"]: f["state"] for f in overview["filings"]}
    assert states["operator_preentry"] == "submitted"
    # opened again, the form is as filed (to correct and resubmit), the phone as it is dialled
    again = browser.get(path).text
    assert f'value="{operator["id_number"]}"' in again
    assert f'value="{operator["phone"].removeprefix("+86")}"' in again
    assert 'name="operators.1.name"' not in again
