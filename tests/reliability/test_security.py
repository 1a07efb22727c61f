"""Security: tokens (revoked, malformed, brute-forced), what reaches the logs, what the hotline
sees, and SQL built only with parameters. The route × role matrix itself is the access contract
in tests/api/test_roles.py (every route, every role, other enterprises); this adds what it does
not cover."""

from __future__ import annotations

import base64
import copy
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from fastapi.routing import APIRoute

from api.http.schemas import examples
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import Api, opened
from tests.conftest import POSTGRES_URL
from tests.reliability.processes import ServedApi, issue_tokens, problem_of
from tests.reliability.support import count, verify_everything

HOSTILE = ("'); DROP TABLE x; --", "%s", "?", "%(x)s", '" OR 1=1 --', "\\'; --", "{0}", "$1")


def personal_data() -> dict[str, str]:
    """Every ID number and phone of the example enrolment: what the hotline must never see."""
    three = examples.FILINGS["three_in_one"]
    form = three["materials"]["ic_card_registration_form"]
    found = {
        "legal person ID": form["legal_person"]["id_number"],
        "operator ID": form["operator"]["id_number"],
        "extra operator ID": examples.OPERATOR["id_number"],
    }
    phones = {
        "legal person phone": form["legal_person"]["phone"],
        "operator phone": form["operator"]["phone"],
        "recipient phone": three["materials"]["express_handover_form"]["recipient_phone"],
        "mailing phone": examples.MAILING["recipient_phone"],
        "extra operator phone": examples.OPERATOR["phone"],
    }
    for name, phone in phones.items():
        found[name] = phone.removeprefix("+86")  # 13964659812 also covers +8613964659812
    return found


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """The secrets that appear in `text` (digits compared without separators)."""
    digits = re.sub(r"[\s-]", "", text)
    return [name for name, value in secrets.items() if value in text or value in digits]


@pytest.fixture
def enrolled(settings: Settings) -> Iterator[Api]:
    """The app with the example enterprise enrolled, its keys mailed, an extra operator."""
    with opened(settings) as api:
        api.enrolled(mailed=True)
        api.ok(
            api.post(
                "enterprise",
                f"/v1/enterprises/{examples.USCC}/operators",
                {"holder_kind": "operator", "holder": examples.OPERATOR,
                 "authorising_card_no": examples.LP_CARD},
            ),
            201,
        )  # fmt: skip
        api.ok(api.post("auditor", "/v1/audit/checkpoints"), 201)
        api.settle()
        yield api


# -- tokens ---------------------------------------------------------------------------------------


def test_malformed_and_near_miss_tokens_get_401_never_5xx(enrolled: Api) -> None:
    """(Missing, unknown and revoked tokens: tests/api/test_auth.py.)"""
    api = enrolled
    issued = api.services.tokens.issue("hotline").token
    malformed = [
        "", "epl_", "epl_" + "x" * 5000, issued + "x", issued[:-1], issued.upper(), "null",
        "epl_%s' OR '1'='1", "epl_" + "/+=" * 15, issued.removeprefix("epl_"),
    ]  # fmt: skip
    for token in malformed:
        response = api.client.get(
            f"/v1/keys/{examples.LP_CARD}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, (token[:40], response.status_code, response.text)
        assert problem_of(response)["rule"] in ("invalid_token", "token_required")
    count("security.malformed_tokens_refused", len(malformed))


def test_brute_force_on_the_served_api_is_throttled_to_n_guesses_a_minute(
    settings: Settings, tmp_path: Path
) -> None:
    """Against `eport-ledger serve` over TCP (the in-process variant is in tests/api): after N
    failures from one address every further guess is 429 with Retry-After, so guessing runs at
    N tokens a minute at most — while a good token from the same address still passes."""
    limit = 5
    (good,) = issue_tokens(settings, ("window", None))
    server = ServedApi(
        settings, tmp_path / "serve.log", EPORT_API_AUTH_FAILURES_PER_MINUTE=str(limit)
    )
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            answers = [
                http.get("/v1/window/queue", headers={"Authorization": f"Bearer epl_{n:043d}"})
                for n in range(limit + 25)
            ]
            allowed = http.get("/v1/window/queue", headers={"Authorization": f"Bearer {good}"})
    finally:
        server.stop()
    assert [a.status_code for a in answers[:limit]] == [401] * limit
    assert {a.status_code for a in answers[limit:]} == {429}
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers[limit:])
    assert problem_of(answers[-1])["rule"] == "too_many_failed_authentications"
    assert allowed.status_code == 200
    count("security.brute_force_guesses_refused_429", len(answers) - limit)


# -- logs -----------------------------------------------------------------------------------------


def test_tokens_and_personal_data_never_reach_the_logs(settings: Settings, tmp_path: Path) -> None:
    tokens = issue_tokens(
        settings,
        ("enterprise", examples.USCC), ("window", None), ("hotline", None), ("auditor", None),
        ("admin", None),
    )  # fmt: skip
    enterprise, window, hotline, auditor, admin = ({"Authorization": f"Bearer {t}"} for t in tokens)
    guesses = [f"epl_guess{n:040d}" for n in range(3)]
    server = ServedApi(settings, tmp_path / "serve.log", EPORT_API_LOG_LEVEL="DEBUG")
    server.start()
    three = examples.FILINGS["three_in_one"]
    holder = three["materials"]["ic_card_registration_form"]["legal_person"]["name"]
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            register = {"uscc": examples.USCC, "name": examples.COMPANY,
                        "customs_code": examples.CUSTOMS_CODE,
                        "receipt_number": examples.RECEIPT_NUMBER}  # fmt: skip
            assert http.post("/v1/enterprises", json=register, headers=enterprise).is_success
            for kind, body in examples.FILINGS.items():
                path = f"/v1/enterprises/{examples.USCC}/filings/{kind}"
                assert http.post(path, json=body, headers=enterprise).is_success
            bad = {**three, "legal_representative": "x" * 500}  # a 422 that quotes the body?
            http.post(f"/v1/enterprises/{examples.USCC}/filings/three_in_one", json=bad,
                      headers=enterprise)  # fmt: skip
            wrong_id = {**examples.OPERATOR, "id_number": examples.OPERATOR["id_number"][:-1] + "0"}
            http.post(
                f"/v1/enterprises/{examples.USCC}/operators",
                json={"holder_kind": "operator", "holder": wrong_id},
                headers=window,
            )
            http.post(f"/v1/enterprises/{examples.USCC}/review", json={"decision": "approve"},
                      headers=window)  # fmt: skip
            pair = {"source": "free_pair", "uscc": examples.USCC,
                    "legal_person_card_no": examples.LP_CARD,
                    "operator_card_no": examples.OP_CARD}  # fmt: skip
            assert http.post("/v1/keys", json=pair, headers=window).is_success
            http.post(f"/v1/keys/{examples.LP_CARD}/mailing", json=examples.MAILING,
                      headers=window)  # fmt: skip
            http.get("/v1/keys", params={"holder": holder}, headers=hotline)
            http.get(f"/v1/keys/{examples.LP_CARD}", headers=hotline)
            http.get(f"/v1/audit/history/enterprise:{examples.USCC}", headers=auditor)
            http.get("/v1/tokens", headers=admin)
            created = http.post("/v1/tokens", json={"role": "hotline"}, headers=admin)
            tokens.append(created.json()["token"])
            for guess in guesses:
                http.get("/v1/window/queue", headers={"Authorization": f"Bearer {guess}"})
            http.get("/v1/window/queue", headers={"Authorization": f"Basic {tokens[1]}"})
    finally:
        server.stop()
    log = server.output()
    secrets = {f"token {n}": token for n, token in enumerate(tokens + guesses)}
    secrets |= {f"token {n} without prefix": t.removeprefix("epl_") for n, t in enumerate(tokens)}
    secrets |= personal_data()
    secrets |= {"holder name": holder, "recipient": examples.MAILING["recipient_name"]}
    count("security.log_lines_checked", log.count("\n"))
    assert '"route":"/v1/keys/{card_no}"' in log  # the requests were logged, by route template
    assert not leaks(log, secrets), leaks(log, secrets)


# -- what the hotline sees ------------------------------------------------------------------------


def _hotline_paths(api: Api) -> list[str]:
    """Every GET the hotline may make, with the example's identifiers and query variants."""
    holder = examples.FILINGS["three_in_one"]["materials"]["ic_card_registration_form"][
        "legal_person"
    ]["name"]
    fill = {"uscc": examples.USCC, "card_no": examples.LP_CARD,
            "stream": f"enterprise:{examples.USCC}"}  # fmt: skip
    paths = []
    for route in api.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and "GET" in route.methods and "proofs" not in route.path:
            paths.append(route.path.format(**{k: v for k, v in fill.items()
                                              if "{" + k + "}" in route.path}))  # fmt: skip
    return [
        *paths,
        f"/v1/keys/{examples.OP_CARD}",
        f"/v1/keys?uscc={examples.USCC}",
        f"/v1/keys?holder={holder}",
        "/v1/keys?status=mailed",
        "/v1/keys?status=issued",
        f"/v1/enterprises/{examples.USCC}?min_position=1",
        "/v1/keys/0000000000000000",
    ]


def test_the_hotline_sees_personal_data_masked_in_every_view_and_error(enrolled: Api) -> None:
    api = enrolled
    secrets = personal_data()
    answers, masked = 0, 0
    for path in _hotline_paths(api):
        response = api.client.get(path, headers=api.as_("hotline"))
        assert response.status_code < 500, (path, response.text)
        assert not leaks(response.text, secrets), (path, leaks(response.text, secrets))
        answers += 1
        masked += response.text.count("****")
    for method, path in [("POST", f"/v1/keys/{examples.LP_CARD}/pin-attempts"),
                         ("POST", f"/v1/enterprises/{examples.USCC}/operators"),
                         ("POST", "/v1/keys")]:  # fmt: skip
        response = api.client.request(method, path, json={}, headers=api.as_("hotline"))
        assert response.status_code in (403, 422)
        assert not leaks(response.text, secrets)
        answers += 1
    window = api.get("window", f"/v1/keys/{examples.LP_CARD}").text
    assert leaks(window, secrets), "the window sees the data unmasked (the test looks right)"
    assert masked >= 4, "no masked value was shown at all"
    count("security.hotline_answers_checked", answers)


def test_proof_bundles_reveal_no_personal_data_to_the_hotline_or_other_enterprises(
    enrolled: Api,
) -> None:
    """BUG (found by this suite): GET /v1/audit/proofs/inclusion is open to every role and its
    `entry` carries the stored event in full (`state` and `state_base64`), so the hotline — and
    any enterprise token, for any other enterprise — reads ID numbers and phones unmasked by
    walking the ledger indexes."""
    api = enrolled
    secrets = personal_data()
    size = api.services.ledger.position()
    found: dict[str, set[str]] = {}
    for role in ("hotline", "other_enterprise"):
        headers = api.headers[role]
        for index in range(1, size + 1):
            response = api.client.get(f"/v1/audit/proofs/inclusion?index={index}",
                                      headers=headers)  # fmt: skip
            assert response.status_code < 500, response.text
            found.setdefault(role, set()).update(leaks(response.text, secrets))
            if response.status_code == 200:
                state = response.json().get("entry", {}).get("state_base64")
                if state:
                    decoded = base64.b64decode(state).decode("utf-8", "replace")
                    found[role].update(leaks(decoded, secrets))
    assert not any(found.values()), {role: sorted(names) for role, names in found.items()}


# -- SQL only with parameters ---------------------------------------------------------------------


def _strings(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, (*path, key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from _strings(inner, (*path, n))
    elif isinstance(value, str):
        yield path


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _hostile_post(api: Api, role: str, path: str, body: dict[str, Any]) -> tuple[Any, list[str]]:
    """POST `body` with a hostile string in every text field the API takes; fields it refuses
    (identifiers, codes, enums, dates) get their valid value back. The answer and the strings
    that went in."""
    original = copy.deepcopy(body)
    hostile = copy.deepcopy(body)
    fields = list(_strings(hostile))
    for n, field in enumerate(fields):
        _set(hostile, field, HOSTILE[n % len(HOSTILE)])
    for _ in range(len(fields) + 1):
        response = api.post(role, path, hostile)
        if response.status_code < 400:
            sent = [_get(hostile, f) for f in fields if _get(hostile, f) in HOSTILE]
            return response.json(), sent
        refused = {e["field"] for e in response.json().get("errors", []) if e.get("field")}
        reverted = False
        for field in fields:
            dotted = ".".join(str(part) for part in field)
            named = any(
                d == dotted or dotted.endswith("." + d) or d.endswith(dotted) for d in refused
            )
            if named and _get(hostile, field) != _get(original, field):
                _set(hostile, field, _get(original, field))
                reverted = True
        if not reverted:  # a rule about the whole body: give one more field back
            changed = [f for f in fields if _get(hostile, f) != _get(original, f)]
            assert changed, response.text
            _set(hostile, changed[-1], _get(original, changed[-1]))
    raise AssertionError(f"{path} never accepted: {response.text}")


def _canary(settings: Settings) -> tuple[str, Callable[[str], list[Any]]]:
    """A table named x in the ledger's database (what the hostile strings try to drop)."""
    if settings.is_postgres:
        schema = settings.database_url.rpartition("schema=")[2]
        return f'"{schema}".x', _pg
    path = settings.sqlite_path()

    def run(sql: str) -> list[Any]:
        with sqlite3.connect(path) as conn:
            return conn.execute(sql).fetchall()

    return "x", run


def _pg(sql: str) -> list[Any]:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def test_hostile_strings_in_every_text_field_go_through_verbatim_and_tables_stay(
    settings: Settings,
) -> None:
    table, sql = _canary(settings)
    sql(f"CREATE TABLE {table} (a INTEGER)")
    sql(f"INSERT INTO {table} VALUES (1)")
    sent: list[str] = []
    with opened(settings) as api:
        register = {"uscc": examples.USCC, "name": examples.COMPANY,
                    "customs_code": examples.CUSTOMS_CODE,
                    "receipt_number": examples.RECEIPT_NUMBER}  # fmt: skip
        _, strings = _hostile_post(api, "enterprise", "/v1/enterprises", register)
        sent += strings
        for kind, body in examples.FILINGS.items():
            _, strings = _hostile_post(
                api, "enterprise", f"/v1/enterprises/{examples.USCC}/filings/{kind}", body
            )
            sent += strings
        api.approve()
        api.issue_pair()
        for path, body in [
            (f"/v1/keys/{examples.LP_CARD}/mailing", examples.MAILING),
            (f"/v1/keys/{examples.OP_CARD}/loss-report", {"reason": "x"}),
            (f"/v1/keys/{examples.LP_CARD}/freeze", {"reason": "x"}),
        ]:
            _, strings = _hostile_post(api, "window", path, body)
            sent += strings
        api.settle()  # the views have applied every command above
        for text in HOSTILE:  # as query parameters too: matched as text, nothing else
            response = api.get("hotline", "/v1/keys", holder=text)
            assert response.status_code == 200, response.text
            assert all(item["holder"]["name"] == text for item in response.json()["items"])
        history = api.get("auditor", f"/v1/audit/history/enterprise:{examples.USCC}").text
        keys = api.get("auditor", f"/v1/audit/history/key:{examples.LP_CARD}").text
        key_view = api.get("window", f"/v1/keys/{examples.LP_CARD}")
        api.ok(key_view)
        stored = orjson.loads(history) | {"keys": orjson.loads(keys)}
        stored_strings = {s for p in _strings(stored) for s in [_get(stored, p)]}
        missing = [s for s in sent if s not in stored_strings]
        assert not missing, f"not stored verbatim: {missing}"
        assert any(s in key_view.text for s in HOSTILE[:3]), key_view.text[:500]
        assert not verify_everything(api.services.ledger.database, settings.key_path())
    assert sql(f"SELECT a FROM {table}") == [(1,)]
    assert len(sent) >= 20, sent
    assert set(sent) == set(HOSTILE)
    count("security.hostile_strings_stored_verbatim", len(sent))
