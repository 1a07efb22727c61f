"""The hotline's search box finds a holder's keys by what a caller says: ID number, name or phone
(exact, through the blind indexes) or a part of the company's name, on both backends."""

from __future__ import annotations

from typing import Any, Final

import pytest

from api.http.schemas import examples
from tests.console.conftest import Console, csrf_of

FORM: Final[dict[str, Any]] = examples.FILINGS["three_in_one"]["materials"][
    "ic_card_registration_form"
]
LEGAL_PERSON: Final[dict[str, Any]] = FORM["legal_person"]
OPERATOR: Final[dict[str, Any]] = FORM["operator"]
BOTH: Final = {examples.LP_CARD, examples.OP_CARD}


@pytest.mark.parametrize(
    ("said", "found"),
    [
        (OPERATOR["id_number"], {examples.OP_CARD}),
        (OPERATOR["name"], {examples.OP_CARD}),
        (OPERATOR["phone"][3:], {examples.OP_CARD}),  # the national number, as a caller says it
        (LEGAL_PERSON["id_number"], {examples.LP_CARD}),
        (examples.FILINGS["three_in_one"]["company_name"][2:6], BOTH),  # a part of the name
        ("无此人", set()),
    ],
    ids=["operator-id", "operator-name", "operator-phone", "legal-person", "company", "nobody"],
)
def test_the_hotline_finds_a_holders_keys_by_what_the_caller_says(
    console: Console, said: str, found: set[str]
) -> None:
    console.api.enrolled()
    position = console.api.services.ledger.position()
    path = f"/v1/keys/{examples.OP_CARD}?min_position={position}"
    console.api.ok(console.api.get("hotline", path))  # the views have caught up
    hotline = console.sign_in("hotline")
    token = csrf_of(hotline.get("/ui/hotline").text)
    page = hotline.post("/ui/hotline", data={"q": said, "csrf": token})
    assert page.status_code == 200
    assert {card for card in BOTH if card in page.text} == found
    for number in (OPERATOR["id_number"], OPERATOR["phone"], LEGAL_PERSON["id_number"]):
        assert number not in page.text  # masked, and not written back into the box
