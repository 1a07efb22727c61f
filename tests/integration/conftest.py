"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings


@pytest.fixture
def two(settings: Settings) -> Iterator[tuple[Ledger, Ledger]]:
    """Two Ledger objects on one database: two API processes, each with its own cache."""
    first, second = Ledger(settings), Ledger(settings)
    yield first, second
    first.close()
    second.close()
