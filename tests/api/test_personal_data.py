"""Personal data in the ledger, over HTTP on both backends: sealed per person, never derivable,
erasable without breaking a proof, found by the hotline through blind indexes, and invisible
across enterprises."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import orjson
import phonenumbers

from api.http.schemas import examples
from domain.identifiers import resident_id_check_char
from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.proofs.checkpoint import load_public_key_pem
from projections.engine.rebuild import rebuild
from replay.export import export_ledger
from replay.integrity import audit_ledger
from replay.offline import check_bundle, check_export
from tests.api.conftest import OTHER_USCC, Api

THREE = examples.FILINGS["three_in_one"]
FORM = THREE["materials"]["ic_card_registration_form"]
OPERATOR = FORM["operator"]
LEGAL_PERSON = FORM["legal_person"]
LP, OP = examples.LP_CARD, examples.OP_CARD
OLD_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5e7a-9c10-4b2d6e8f0a13")
"""The namespace 0.1.0 derived card-holder ids in (uuid5 of `kind:uscc:id_number`)."""


def needles(person: dict[str, Any]) -> dict[str, bytes]:
    """What of a person must not be found anywhere: ID number, name, phone (both forms)."""
    phone = phonenumbers.parse(person["phone"], "CN")
    return {
        "ID number": person["id_number"].encode(),
        "name": person["name"].encode(),
        "phone": person["phone"].encode(),
        "national phone": str(phone.national_number).encode(),
    }


def tables(database: LedgerDatabase) -> list[str]:
    """Every table of the ledger's database (its schema on PostgreSQL)."""
    with database.reading() as cursor:
        if database.dialect == "sqlite":
            rows = cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            return [str(row[0]) for row in rows]
        schema = database.table("x").split(".")[0].strip('"')
        rows = cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", (schema,)
        ).fetchall()
        return [database.table(str(row[0])) for row in rows]


def cells(database: LedgerDatabase) -> Iterator[tuple[str, bytes]]:
    """Every value of every column of every table, as bytes (text UTF-8, bytes as they are)."""
    for table in tables(database):
        with database.reading() as cursor:
            rows = cursor.execute(f"SELECT * FROM {table}").fetchall()
        for row in rows:
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    yield table, bytes(value)
                elif value is not None:
                    yield table, str(value).encode()


def found_in(database: LedgerDatabase, person: dict[str, Any]) -> list[str]:
    """Where any of the person's data lies in the database, in plain text."""
    wanted = needles(person)
    return sorted(
        {
            f"{what} in {table}"
            for table, cell in cells(database)
            for what, needle in wanted.items()
            if needle in cell
        }
    )


def entry_of(api: Api, event: str) -> int:
    """The ledger index of the first entry of this event type."""
    for entry in api.services.ledger.database.iter_entries():
        if entry.topic == event:
            return entry.ledger_index
    raise AssertionError(f"no {event} in the ledger")


def test_no_ID_number_name_or_phone_is_stored_in_plain_text(enrolled: Api) -> None:
    api = enrolled
    api.settle()
    people = [LEGAL_PERSON, OPERATOR, *THREE_IN_ONE_PEOPLE()]
    database = api.services.ledger.database
    for person in people:
        assert found_in(database, person) == [], person["name"]
    events = b"".join(entry.state for entry in database.iter_entries())
    for person in (LEGAL_PERSON, OPERATOR):
        assert person["id_number"].encode() not in events


def THREE_IN_ONE_PEOPLE() -> list[dict[str, Any]]:
    """The pre-entered operators (persons with an ID number and a phone)."""
    return list(examples.FILINGS["operator_preentry"]["operators"])


def test_after_an_erasure_nothing_holds_the_person_and_every_proof_still_verifies(
    enrolled: Api, tmp_path: Any
) -> None:
    api = enrolled
    ledger = api.services.ledger
    database = ledger.database
    api.settle()
    before = api.ok(api.post("auditor", "/v1/audit/checkpoints"), 201)
    index = entry_of(api, "OperatorRegistered")
    proof = api.ok(api.get("auditor", "/v1/audit/proofs/inclusion", index=index))
    assert OPERATOR["name"] in api.get("window", f"/v1/enterprises/{examples.USCC}").text

    erased = api.ok(
        api.post(
            "window",
            "/v1/personal-data/erasures",
            {"id_number": OPERATOR["id_number"], "reason": "本人依法请求删除个人信息"},
        ),
        201,
    )
    assert erased["erased_subjects"]
    api.settle()

    # Every API answer shows the person as erased.
    key = api.ok(api.get("window", f"/v1/keys/{OP}", min_position=erased["position"]))
    assert key["personal_data_erased"] is True
    assert key["holder"]["name"] is None
    overview = api.ok(api.get("window", f"/v1/enterprises/{examples.USCC}"))
    operators = [o for o in overview["operators"] if o["kind"] == "operator"]
    assert operators
    assert [o["name"] for o in operators] == [None] * len(operators)
    history = api.get("auditor", f"/v1/audit/history/enterprise:{examples.USCC}").text
    assert '"erased":true' in history.replace(" ", "")
    assert OPERATOR["name"] not in history

    # Not in any column of any table; nor after a fresh rebuild; nor in a fresh export.
    assert found_in(database, OPERATOR) == []
    rebuild(database)
    assert found_in(database, OPERATOR) == []
    export = io.BytesIO()
    export_ledger(database, export, api.services.signing_key)
    assert [what for what, needle in needles(OPERATOR).items() if needle in export.getvalue()] == []
    assert found_in(database, LEGAL_PERSON) == []  # and the others' data still sealed, readable
    assert api.ok(api.get("window", f"/v1/keys/{LP}"))["holder"]["name"] == LEGAL_PERSON["name"]

    # The ledger is intact, the proof fetched before the erasure still verifies against its
    # checkpoint, and the ledger proves it extends that checkpoint.
    assert audit_ledger(database).intact
    public_key = load_public_key_pem(
        api.ok(api.get("auditor", "/v1/audit/public-key"))["public_key_pem"]
    )
    assert check_bundle(proof, [public_key]).valid
    api.ok(api.post("auditor", "/v1/audit/checkpoints"), 201)
    consistency = api.ok(
        api.get("auditor", "/v1/audit/proofs/consistency", **{"from": before["size"]})
    )
    assert check_bundle(consistency, [public_key]).valid
    assert check_export(io.BytesIO(export.getvalue()), [public_key]).valid


def test_erasing_someone_twice_is_refused_with_nothing_to_erase(enrolled: Api) -> None:
    api = enrolled
    body = {"phone": OPERATOR["phone"], "reason": "撤回同意"}
    api.ok(api.post("window", "/v1/personal-data/erasures", body), 201)
    again = api.post("window", "/v1/personal-data/erasures", body)
    assert (again.status_code, again.json()["rule"]) == (422, "nothing_to_erase")


def _candidates(masked: str, birth: date) -> Iterator[str]:
    """Every valid resident ID number the hotline's mask allows for one birth year."""
    prefix, tail = masked[:4], masked[-4:]
    day = date(birth.year, 1, 1)
    while day.year == birth.year:
        for district in range(100):
            body = f"{prefix}{district:02d}{day:%Y%m%d}{tail[:3]}"
            if resident_id_check_char(body) == tail[3]:
                yield body + tail[3]
        day += timedelta(days=1)


def _derivations(uscc: str, number: str) -> Iterator[str]:
    """Ways one might derive an id from an ID number without a secret."""
    for kind in ("operator", "legal_person"):
        yield str(uuid.uuid5(OLD_NAMESPACE, f"{kind}:{uscc}:{number}"))
    for namespace in (uuid.NAMESPACE_DNS, uuid.NAMESPACE_OID, uuid.NAMESPACE_URL):
        yield str(uuid.uuid5(namespace, number))
        yield str(uuid.uuid3(namespace, number))
    for digest in (hashlib.sha256, hashlib.md5, hashlib.sha1):
        yield str(uuid.UUID(bytes=digest(number.encode()).digest()[:16]))


def test_what_the_hotline_sees_cannot_be_enumerated_back_to_an_ID_number(enrolled: Api) -> None:
    api = enrolled
    api.settle()
    answer = api.get("hotline", f"/v1/keys/{OP}").text
    key = orjson.loads(answer)
    masked = key["holder"]["id_number"]
    assert masked.startswith(OPERATOR["id_number"][:4])
    assert "*" in masked
    visible = set(
        re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", answer)
    )
    visible |= set(re.findall(r"[0-9a-f]{32,64}", answer))
    assert key["holder"]["id"] in visible
    birth = date.fromisoformat(OPERATOR["birth_date"])
    candidates = list(_candidates(masked, birth))
    assert OPERATOR["id_number"] in candidates  # the enumeration is the attack's, done right
    matches = [
        n for n in candidates for derived in _derivations(examples.USCC, n) if derived in visible
    ]
    assert matches == []


def test_the_hotline_finds_keys_by_phone_ID_number_holder_and_company_name_masked(
    enrolled: Api,
) -> None:
    api = enrolled
    api.settle()
    searches = {
        "phone": OPERATOR["phone"],
        "id_number": OPERATOR["id_number"],
        "holder_name": OPERATOR["name"],
        "company_name": examples.COMPANY[2:6],
    }
    for finder, value in searches.items():
        found = api.ok(api.post("hotline", "/v1/keys/search", {finder: value}))["items"]
        cards = {item["card_no"] for item in found}
        assert OP in cards, finder
        if finder != "company_name":
            assert cards == {OP}, finder
        for item in found:
            holder = item["holder"]
            assert "*" in holder["id_number"], finder
            assert "*" in holder["phone"], finder
    national = str(phonenumbers.parse(OPERATOR["phone"], "CN").national_number)
    assert {
        i["card_no"]
        for i in api.ok(api.post("hotline", "/v1/keys/search", {"phone": national}))["items"]
    } == {OP}
    nobody = api.ok(api.post("hotline", "/v1/keys/search", {"phone": "13900000000"}))
    assert nobody["items"] == []
    two = api.post(
        "hotline", "/v1/keys/search", {"phone": OPERATOR["phone"], "uscc": examples.USCC}
    )
    assert two.status_code == 422


def test_an_enterprise_learns_nothing_of_another_enterprise_through_any_route(
    enrolled: Api,
) -> None:
    api = enrolled
    api.settle()
    ledger = api.services.ledger
    api.ok(api.post("auditor", "/v1/audit/checkpoints"), 201)
    other = "other_enterprise"

    def same(first: Any, second: Any) -> None:
        assert first.status_code == second.status_code
        assert first.json().get("rule") == second.json().get("rule")

    missing_card = "0000000000000009"
    same(api.get(other, f"/v1/keys/{LP}"), api.get(other, f"/v1/keys/{missing_card}"))
    same(
        api.post(other, f"/v1/keys/{LP}/pin-attempts", {"ok": False}),
        api.post(other, f"/v1/keys/{missing_card}/pin-attempts", {"ok": False}),
    )
    theirs = entry_of(api, "OperatorRegistered")
    beyond = ledger.position() + 10
    same(
        api.get(other, "/v1/audit/proofs/inclusion", index=theirs),
        api.get(other, "/v1/audit/proofs/inclusion", index=beyond),
    )
    for finder in (
        {"phone": OPERATOR["phone"]}, {"id_number": OPERATOR["id_number"]},
        {"uscc": examples.USCC}, {"card_no": LP}, {"company_name": examples.COMPANY},
    ):  # fmt: skip
        assert api.ok(api.post(other, "/v1/keys/search", finder))["items"] == [], finder
    same(
        api.get(other, f"/v1/enterprises/{examples.USCC}"),
        api.get(other, "/v1/enterprises/91110000600037341L"),
    )
    operator = next(
        o["id"]
        for o in api.ok(api.get("window", f"/v1/enterprises/{examples.USCC}"))["operators"]
        if o["kind"] == "operator"
    )
    permissions = {"permissions": ["payment.view"], "authorising_card_no": LP}
    same(
        api.client.put(f"/v1/enterprises/{OTHER_USCC}/operators/{operator}/permissions",
                       json=permissions, headers=api.as_(other)),
        api.client.put(f"/v1/enterprises/{OTHER_USCC}/operators/{uuid.uuid4()}/permissions",
                       json=permissions, headers=api.as_(other)),
    )  # fmt: skip
    # Idempotency keys are each token's own: another's key used again is a new request.
    api.ok(
        api.post("enterprise", f"/v1/keys/{LP}/pin-attempts", {"ok": True}, Idempotency_Key="k1")
    )
    reused = api.post(
        other, f"/v1/keys/{missing_card}/pin-attempts", {"ok": True}, Idempotency_Key="k1"
    )
    assert reused.status_code == 404
    assert "Idempotent-Replayed" not in reused.headers


def test_the_hotline_gets_proofs_of_keys_but_not_of_an_erasure(enrolled: Api) -> None:
    api = enrolled
    erased = api.ok(
        api.post(
            "window",
            "/v1/personal-data/erasures",
            {"phone": OPERATOR["phone"], "reason": "撤回同意"},
        ),
        201,
    )
    api.settle()
    api.ok(api.post("auditor", "/v1/audit/checkpoints"), 201)
    key_entry = entry_of(api, "KeyIssued")
    bundle = api.ok(api.get("hotline", "/v1/audit/proofs/inclusion", index=key_entry))
    public_key = load_public_key_pem(
        api.ok(api.get("hotline", "/v1/audit/public-key"))["public_key_pem"]
    )
    assert check_bundle(bundle, [public_key]).valid  # the whole entry: verifiable offline
    refused = api.get("hotline", "/v1/audit/proofs/inclusion", index=erased["position"])
    assert refused.status_code == 404
    assert api.ok(api.get("auditor", "/v1/audit/proofs/inclusion", index=erased["position"]))


def test_a_client_cannot_send_sealed_personal_data(api: Api) -> None:
    api.register()
    three = dict(THREE)
    three["legal_representative"] = {
        "sealed": "AAAA",
        "subject": str(uuid.uuid4()),
        "key": str(uuid.uuid4()),
    }
    response = api.post(
        "enterprise", f"/v1/enterprises/{examples.USCC}/filings/three_in_one", three
    )
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["legal_representative"], response.text
