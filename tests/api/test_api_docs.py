"""/docs and /redoc come from this server alone: every script, style, icon and document they
name is a same-origin path that answers, and the pages name no other host."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.http.app import create_app
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import TestClient, api_settings

REFERENCE = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|url: ?'([^']+)'""")


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_api_pages_load_only_from_this_server(tmp_path: Path, page: str) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'l.db'}", signing_key_path=tmp_path / "k"
    )
    with TestClient(create_app(settings, api_settings())) as client:
        html = client.get(page)
        assert html.status_code == 200
        assert html.headers["Content-Type"].startswith("text/html")
        assert not re.search(r"(?:https?:)?//[\w.-]+\.\w", html.text), "names another host"
        references = [a or b for a, b in REFERENCE.findall(html.text)]
        if page != "/docs/oauth2-redirect":
            assert any(url.endswith(".js") for url in references), references
        for url in references:
            assert url.startswith("/"), url
            assert not url.startswith("//"), url
            answer = client.get(url)
            assert answer.status_code == 200, url
            assert len(answer.content) > 1000, url
