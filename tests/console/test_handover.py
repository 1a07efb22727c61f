"""The window's two ways of getting the free pair to its holder, from the console: handed over
at the window (one button per key), or mailed in one parcel by one command."""

from __future__ import annotations

from api.http.schemas import examples
from tests.console.conftest import Console, csrf_of

USCC = examples.USCC
PAGE = f"/ui/window/enterprises/{USCC}"


def _issued(console: Console) -> None:
    console.api.register()
    console.api.file_all()
    console.api.approve()
    console.api.issue_pair()


def _history(console: Console, card: str) -> list[dict[str, object]]:
    answer = console.api.get("auditor", f"/v1/audit/history/key:{card}")
    events: list[dict[str, object]] = console.api.ok(answer)["events"]
    return events


def test_the_window_hands_a_key_over_in_person(console: Console) -> None:
    _issued(console)
    clerk = console.sign_in("window")
    page = clerk.get(PAGE).text
    action = f"/ui/window/keys/{examples.OP_CARD}/delivery"
    assert action in page
    assert "窗口领取" in page
    answer = clerk.post(
        action,
        data={"csrf": csrf_of(page), "channel": "window", "back": PAGE, "idempotency_key": "h-1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    delivered = [e for e in _history(console, examples.OP_CARD) if e["type"] == "KeyDelivered"]
    assert [e["body"]["channel"] for e in delivered] == ["window"]  # type: ignore[index]
    refused = clerk.post(
        action,
        data={"csrf": csrf_of(page), "channel": "drone", "back": PAGE},
        follow_redirects=False,
    )
    assert refused.status_code == 422


def test_the_parcel_is_one_command_and_one_append(console: Console) -> None:
    _issued(console)
    clerk = console.sign_in("window")
    page = clerk.get(PAGE).text
    mail = examples.MAILING
    form = {
        "csrf": csrf_of(page),
        "idempotency_key": "parcel-1",
        "case_number": mail["case_number"],
        "order_number": mail["order_number"],
        "ems_tracking_number": "EA123456785CN",
        "company_name": mail["company_name"],
        "recipient_name": mail["recipient_name"],
        "recipient_address": mail["recipient_address"],
        "postcode": mail["postcode"],
        "recipient_phone": mail["recipient_phone"],
        "approver_name": "林芳",
        "approver_date": mail["approver"]["date"],
        "express_window_clerk_name": "陈强",
        "express_window_clerk_date": mail["express_window_clerk"]["date"],
        "postal_clerk_name": "黄敏",
        "postal_clerk_date": mail["postal_clerk"]["date"],
    }
    before = console.api.services.ledger.position()
    answer = clerk.post(f"{PAGE}/mailing", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    after = console.api.services.ledger.position()
    assert after == before + 2  # both KeyMailed events, in one append
    again = clerk.post(f"{PAGE}/mailing", data=form, follow_redirects=False)  # a double click
    assert again.status_code == 303
    assert console.api.services.ledger.position() == after
    for card in (examples.LP_CARD, examples.OP_CARD):
        mailed = [e for e in _history(console, card) if e["type"] == "KeyMailed"]
        assert len(mailed) == 1
