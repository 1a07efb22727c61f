"""Each role's journey end to end in Chromium against a real server, on SQLite and PostgreSQL:
the clerk reviews, rejects, approves, issues, mails and unlocks; the hotline finds a locked key
by the holder's phone and sees the right advice; the auditor opens a key's history as of a past
moment and downloads a proof that `eport-ledger verify-proof` accepts; the enterprise fills in
its four filings and the clerk finds them awaiting review. Screenshots of each main page are
written (see conftest)."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from api.http.console.filing_forms import LISTS, flat
from api.http.console.key_card import CHINA_TIME
from api.http.schemas import examples
from tests.browser.conftest import Served, verify_proof_command
from tests.reliability.processes import ROOT

USCC = examples.USCC
LP, OP = examples.LP_CARD, examples.OP_CARD
OPERATOR = examples.FILINGS["three_in_one"]["materials"]["ic_card_registration_form"]["operator"]
CHOSEN = ("gender", "media")
"""Fields chosen with a radio button (the rest are typed, picked from a list or ticked)."""


def enrolled_with_pair(served: Served) -> None:
    """Registered, filed, approved and the free pair issued, through the API."""
    served.register_and_file()
    served.call("window", "POST", f"/v1/enterprises/{USCC}/review", {"decision": "approve"})
    served.call(
        "window",
        "POST",
        "/v1/keys",
        {"source": "free_pair", "uscc": USCC, "legal_person_card_no": LP, "operator_card_no": OP},
    )


def test_window_clerk_reviews_rejects_approves_issues_mails_and_unlocks(
    served: Served, chromium: Any
) -> None:
    served.register_and_file()
    page = served.page(chromium)
    served.sign_in(page, "window")
    assert page.url.endswith("/ui/window")
    assert "待审核" in page.inner_text("nav.tabs")
    assert "1" in page.inner_text("nav.tabs a.on .count")
    served.shot(page, "window-queue")

    page.click(f"a[href='/ui/window/enterprises/{USCC}']")
    assert "中国电子口岸企业IC卡登记表" in page.content()
    assert "快递交接单" in page.content()
    served.shot(page, "window-enterprise-review")

    # a rejection needs a reason: refused next to the field, in Chinese
    page.click("#reject")
    assert "请填写原因" in page.inner_text("#review") or "必填" in page.inner_text("#review")
    page.fill("textarea[name=reason]", "附件3 收件人联系电话无法接通，请核实")
    page.click("#reject")
    assert "已退回" in page.inner_text("#review")

    # the enterprise corrects and resubmits; the clerk approves
    body = examples.FILINGS["three_in_one"]
    served.call("enterprise", "POST", f"/v1/enterprises/{USCC}/filings/three_in_one", body)
    page.reload()
    page.click("#approve")
    assert "审核通过" in page.inner_text(".flash.ok")

    page.fill("input[name=legal_person_card_no]", LP)
    page.fill("input[name=operator_card_no]", OP)
    served.shot(page, "window-issue")
    page.click("#issue-pair")
    assert "两把免费Ukey已发放" in page.inner_text(".flash.ok")

    # one parcel for both keys; a wrong EMS number is refused next to its field
    mail = examples.MAILING
    page.fill("input[name=case_number]", mail["case_number"])
    page.fill("input[name=order_number]", mail["order_number"])
    page.fill("input[name=ems_tracking_number]", "EA123456784CN")
    page.fill("input[name=express_window_clerk_name]", "陈强")
    page.fill("input[name=postal_clerk_name]", "黄敏")
    page.click("#mail-pair")
    error = page.inner_text("label.field.bad em.error")
    assert "快递单号无效" in error
    served.shot(page, "window-mailing-error")
    page.fill("input[name=ems_tracking_number]", "EA123456785CN")
    page.click("#mail-pair")
    assert "一个包裹" in page.inner_text(".flash.ok")
    assert page.inner_text("#mailing").count("EA123456785CN") == 1
    served.shot(page, "window-mailed")

    # both keys mailed with the one tracking number
    for card in (LP, OP):
        key = served.call("window", "GET", f"/v1/keys/{card}")
        assert key["mailing"]["ems_number"] == "EA123456785CN"

    # the parcel arrives; the operator key locks after five wrong PINs; the clerk unlocks it
    page.click(f"form[action='/ui/window/keys/{LP}/delivery'] button")
    page.click(f"form[action='/ui/window/keys/{OP}/delivery'] button")
    position = served.lock(OP)
    page.goto(f"{served.url}/ui/window?stage=locked_keys&at={position}")
    assert "1" in page.inner_text("nav.tabs a.on .count")
    page.click(f"a[href='/ui/window/keys/{OP}']")
    assert "已锁定 · 剩余 0 次" in page.inner_text(".keycard .headline")
    served.shot(page, "window-key-locked")
    page.click("#unlock")
    assert "已解锁" in page.inner_text(".flash.ok")
    assert "剩余 5 次" in page.inner_text(".keycard .headline")

    # every action is recorded with the clerk's staff id, not a name
    history = served.call("auditor", "GET", f"/v1/audit/history/key:{OP}")
    actors = {e["actor"]["principal_id"] for e in history["events"] if e["type"] == "PinUnlocked"}
    assert actors == {served.staff_ids["window"]}
    review = served.call("auditor", "GET", f"/v1/audit/history/enterprise:{USCC}")
    reviewed = [e["actor"] for e in review["events"] if e["type"].startswith("Window")]
    assert [a["principal_id"] for a in reviewed] == [served.staff_ids["window"]] * 2
    assert all(a["role"] == "window" for a in reviewed)


def test_hotline_finds_a_locked_key_by_the_holders_phone(served: Served, chromium: Any) -> None:
    enrolled_with_pair(served)
    served.call("window", "POST", f"/v1/enterprises/{USCC}/free-pair/mailing", examples.MAILING)
    served.call("enterprise", "POST", f"/v1/keys/{OP}/delivery")  # the parcel arrived
    position = served.lock(OP)
    served.call("auditor", "GET", f"/v1/keys/{OP}?min_position={position}")  # views caught up
    page = served.page(chromium)
    served.sign_in(page, "hotline")
    served.shot(page, "hotline-search")
    national = OPERATOR["phone"][3:]
    page.fill("input[name=q]", national)
    page.click("button[type=submit].primary")
    card = page.locator(f".keycard:has-text('{OP}')")
    headline = card.locator(".headline").inner_text()
    assert headline.startswith("已锁定 · 剩余 0 次 · ")
    assert headline.endswith("到期")
    advice = card.locator(".tell").inner_text()
    assert "0898-65203080" in advice
    assert "解锁" in advice
    html = page.content()
    assert national not in html  # the phone is masked, even the one typed in
    assert f"{national[:3]}****{national[-4:]}" in html
    assert OPERATOR["id_number"] not in html
    assert f"{OPERATOR['id_number'][:4]}**********{OPERATOR['id_number'][-4:]}" in html
    served.shot(page, "hotline-locked-key")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a phone"
    served.shot(page, "hotline-phone")
    page.set_viewport_size({"width": 1366, "height": 768})

    # by company name, and in English
    page.fill("input[name=q]", "椰风")
    page.click("button[type=submit].primary")
    assert page.locator(".keycard").count() == 2
    page.goto(served.url + "/ui/lang?to=en&next=/ui/hotline")
    page.fill("input[name=q]", OP)
    page.click("button[type=submit].primary")
    assert "locked · 0 attempts left" in page.inner_text(".keycard .headline")


def test_auditor_reads_history_as_of_a_past_moment_and_downloads_a_proof(
    served: Served, chromium: Any, tmp_path: Path
) -> None:
    enrolled_with_pair(served)
    time.sleep(1.2)
    moment = datetime.now(CHINA_TIME).strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1.2)
    served.call("window", "POST", f"/v1/keys/{OP}/delivery", {"channel": "window"})
    position = served.lock(OP)
    served.call("auditor", "GET", f"/v1/keys/{OP}?min_position={position}")
    page = served.page(chromium)
    served.sign_in(page, "auditor")
    page.click("#sign-checkpoint")
    assert "检查点已签署" in page.inner_text(".flash.ok")
    page.click("#verify-now")
    assert "完好" in page.inner_text(".tile.ok")
    served.shot(page, "audit-status")

    page.goto(f"{served.url}/ui/audit/history?stream=key:{OP}&as_of={moment}")
    table = page.inner_text("table.history")
    assert "KeyIssued" in table
    assert "PinLocked" not in table
    assert "PinAttemptFailed" not in table
    served.shot(page, "audit-history-as-of")
    page.goto(f"{served.url}/ui/audit/history?stream=key:{OP}")
    assert "PinLocked" in page.inner_text("table.history")

    page.goto(f"{served.url}/ui/audit/asof?view=key&subject={OP}&as_of={moment}")
    assert "已制卡，待邮寄" in page.inner_text(".keycard .headline")
    served.shot(page, "audit-view-as-of")

    page.goto(served.url + "/ui/audit")
    with page.expect_download() as key_download:
        page.click("#dl-key")
    key_file = tmp_path / "public-key.pem"
    key_download.value.save_as(key_file)
    page.fill("input[name=index]", "1")
    with page.expect_download() as proof_download:
        page.click("#dl-inclusion")
    proof_file = tmp_path / proof_download.value.suggested_filename
    proof_download.value.save_as(proof_file)
    assert proof_file.name == "inclusion-1.json"
    checked = subprocess.run(
        [*verify_proof_command(), "verify-proof", str(proof_file), "--public-key", str(key_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # a byte changed in the bundle is refused by the same command
    proof_file.write_text(proof_file.read_text().replace('"index": 1', '"index": 2'))
    tampered = subprocess.run(
        [*verify_proof_command(), "verify-proof", str(proof_file), "--public-key", str(key_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tampered.returncode != 0


def fill_in(page: Any, filing: dict[str, Any]) -> None:
    """Fill a filing's form as a person would: type, choose, pick and tick (phones typed the
    national way)."""
    for name, value in flat(filing).items():
        if name in ("kind", "materials.upload_type"):
            continue
        if name in LISTS:
            for ticked in value:
                page.check(f"input[name='{name}'][value='{ticked}']")
        elif name.rsplit(".", 1)[-1] in CHOSEN:
            page.check(f"input[name='{name}'][value='{value}']")
        elif name.endswith("id_type"):
            page.select_option(f"select[name='{name}']", value)
        else:
            page.fill(f"input[name='{name}']", value.removeprefix("+86"))


def test_enterprise_fills_in_its_four_filings_and_the_clerk_sees_them_awaiting_review(
    served: Served, chromium: Any
) -> None:
    served.register()
    page = served.page(chromium)
    served.sign_in(page, "enterprise")
    assert page.url.endswith("/ui/enterprise")
    assert page.inner_text("#filings").count("未提交") == 4
    served.shot(page, "enterprise-to-file")

    # 三证合一 with the two forms it uploads (附件2, 附件3): the name and codes are filled in
    page.click("#file-three_in_one")
    assert page.input_value("input[name=company_name]") == examples.COMPANY
    assert page.input_value("input[name=business_registration_dept_code]") == "460000"
    assert "中国电子口岸企业IC卡登记表" in page.inner_text("#form-2")
    fill_in(page, examples.FILINGS["three_in_one"])
    served.shot(page, "enterprise-three-in-one")
    page.click("#submit-filing")
    assert "备案已提交" in page.inner_text(".flash.ok")
    assert "已提交" in page.inner_text("#filings")

    # 海关 and 外汇: what the registration receipt and the region give is filled in already
    for kind in ("customs", "forex"):
        page.click(f"#file-{kind}")
        page.click("#submit-filing")
        assert "备案已提交" in page.inner_text(".flash.ok")

    # 操作员预录入: a mistyped ID number is refused next to its field, the rest kept as typed
    page.click("#file-operator_preentry")
    operator = examples.FILINGS["operator_preentry"]["operators"][0]
    fill_in(page, {"operators": [{**operator, "id_number": operator["id_number"][:-1] + "4"}]})
    page.click("#submit-filing")
    error = page.inner_text("label.field.bad em.error")
    assert "证件号码无效" in error
    assert page.input_value("input[name='operators.0.name']") == operator["name"]
    assert page.input_value("input[name='operators.0.email']") == operator["email"]
    served.shot(page, "enterprise-preentry-error")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form is {width} px wide on a phone"
    served.shot(page, "enterprise-preentry-phone")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.fill("input[name='operators.0.id_number']", operator["id_number"])
    page.click("#submit-filing")
    assert "备案已提交" in page.inner_text(".flash.ok")
    assert page.inner_text("#filings").count("已提交") == 4
    assert "待审核" in page.inner_text(".ehead")
    served.shot(page, "enterprise-filed")

    # the window clerk finds the enterprise awaiting review, with the forms as filled in
    clerk = served.page(chromium)
    served.sign_in(clerk, "window")
    assert "1" in clerk.inner_text("nav.tabs a.on .count")
    clerk.click(f"a[href='/ui/window/enterprises/{USCC}']")
    assert OPERATOR["name"] in clerk.inner_text("#form-2")
    assert clerk.locator("#approve").count() == 1

    # the people's data went through the command path: none of it is in the server's log
    log = served.server.output()
    three = examples.FILINGS["three_in_one"]["materials"]
    people = (three["ic_card_registration_form"]["legal_person"], operator)
    for secret in (
        *(p["id_number"] for p in people),
        three["express_handover_form"]["recipient_phone"][3:],
    ):
        assert secret not in log
