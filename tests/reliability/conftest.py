"""Fixtures of the reliability suite, and the figures of the run printed at its end."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from tests.conftest import postgres_url_for
from tests.reliability.support import FIGURES


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    """A Ledger on a fresh database of the test's backend."""
    app = Ledger(settings)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def pg_settings(postgres_schema: str, tmp_path: Path) -> Settings:
    """Settings for a fresh ledger in a PostgreSQL schema of its own (PostgreSQL-only tests)."""
    return Settings(
        database_url=postgres_url_for(postgres_schema),
        signing_key_path=tmp_path / "ledger.key",
        postgres_pool_size=4,
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures (clients, commands, faults, tamperings …); EPORT_RELIABILITY_FIGURES
    names a JSON file to write them to as well."""
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name:<52} {value:>8}")
    target = os.environ.get("EPORT_RELIABILITY_FIGURES")
    if target:
        Path(target).write_text(json.dumps(dict(sorted(FIGURES.items())), indent=2) + "\n")
