"""docs/api.md is executed: every ```bash block, in order, against the app on both backends."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from functools import partial
from typing import Any

import pytest

from api.cli.main import main as cli
from domain.ukey.status import KeyStatus
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import Api, opened
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
        runner = Runner(partial(_request, api), _command, before_get=api.settle)
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
        history = next(r.json() for c, r in calls if "/audit/history/enterprise" in c.url)
        assert history["events"][0]["type"] == "EnterpriseRegistered"
        assert history["events"][0]["actor"]["principal_id"] == f"enterprise:{variables['USCC']}"
