"""docs/api.md is executed: every ```bash block, in order, against the app on both backends."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from api.cli.main import main as cli
from domain.ukey.status import KeyStatus
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import Api, opened
from tests.api.rule_sites import rules_answered
from tests.api.walkthrough import Runner, blocks


def _request(api: Api, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Any:
    return api.client.request(method, path, headers=headers, content=body)


def _command(argv: list[str]) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli(argv) == 0
    return out.getvalue()


def test_the_docs_walkthrough_runs_against_the_api(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EPORT_DATABASE_URL", settings.database_url)
    with opened(settings) as api:
        runner = Runner(partial(_request, api), _command)  # reads rely on min_position alone
        parsed = blocks()
        assert len(parsed) > 40
        calls = [result for block in parsed for result in runner.run(block)]

        variables = runner.variables
        assert {"APPLICATION_ID", "OPERATOR_ID", "POSITION"} <= variables.keys()
        api.settle()
        window = {"Authorization": f"Bearer {variables['WINDOW_TOKEN']}"}
        key = api.client.get(f"/v1/keys/{variables['LP_CARD']}", headers=window).json()
        assert key["status"] == KeyStatus.ACTIVE
        assert [r["state"] for r in key["renewals"]] == ["completed"]
        lost = api.client.get(f"/v1/keys/{variables['OP_CARD']}", headers=window).json()
        assert lost["status"] == KeyStatus.REPLACED
        assert lost["replaced_by"] == "0730004601000004"

        hotline = [r.json() for c, r in calls if c.method == "GET" and "/v1/keys/" in c.url]
        assert hotline[0]["holder"]["id_number"] == "4601**********024X"
        assert hotline[0]["holder"]["phone"] == "139****1234"
        assert hotline[0]["certificate_update_needed"] is True  # the legal representative changed
        assert "0898-65203123" in [c["phone"] for c in hotline[0]["advice"]["call"]]
        tasks = next(r.json() for c, r in calls if "certificates_to_update" in c.url)
        assert [item["card_no"] for item in tasks["items"]] == [variables["LP_CARD"]]
        history = next(r.json() for c, r in calls if "/audit/history/enterprise" in c.url)
        assert history["events"][0]["type"] == "EnterpriseRegistered"
        assert history["events"][0]["actor"]["principal_id"] == f"enterprise:{variables['USCC']}"


VIEW_READS = ("/v1/window/", "/v1/enterprises", "/v1/keys", "/v1/audit/events")
"""Reads answered from the views (the history, checkpoints and proofs read the ledger itself)."""


def test_every_read_after_a_command_in_the_walkthrough_waits_for_it() -> None:
    commanded, stale = False, []
    for block in blocks():
        for call in block.calls:
            path = call.url.removeprefix("$EPORT")
            if call.method != "GET":
                commanded = True
            elif commanded and path.startswith(VIEW_READS) and "min_position=" not in path:
                stale.append(path)
    assert not stale, f"reads that may show a view older than the command before: {stale}"


def test_every_refusal_in_the_walkthrough_names_its_rule() -> None:
    unnamed = [block.text[:80] for block in blocks() if block.expect and block.rule is None]
    assert not unnamed, unnamed


# -- every rule the docs name is one the service answers ---------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _without_parentheses(text: str) -> str:
    while re.search(r"\([^()]*\)", text):
        text = re.sub(r"\([^()]*\)", "", text)
    return text


def rules_in_docs() -> dict[str, set[str]]:
    """The rule names docs/api.md and docs/events.md say the service answers."""
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^# expect \d{3} ([a-z_]+)$", api, re.M))
    named |= set(re.findall(r'"rule":"([a-z_]+)"', api))
    named |= set(re.findall(r"`[45]\d\d` `([a-z_]+)`", api))
    events = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    listed: set[str] = set()
    for paragraph in re.findall(r"^Refusal rules: (.*?)(?:\n\n|\Z)", events, re.M | re.S):
        listed |= set(re.findall(r"`([a-z_]+)`", _without_parentheses(paragraph)))
    return {"docs/api.md": named, "docs/events.md": listed}


def test_every_rule_the_docs_name_is_one_the_service_answers() -> None:
    known = rules_answered()
    assert {"customs_receipt_required", "key_not_delivered", "version_mismatch"} <= known
    documented = rules_in_docs()
    assert len(documented["docs/api.md"]) > 8
    assert len(documented["docs/events.md"]) > 40
    unknown = {doc: sorted(rules - known) for doc, rules in documented.items() if rules - known}
    assert not unknown, f"rules the docs name that the code never answers: {unknown}"
