"""EPORT_API_TRACING=true without the otel extra stops the process in one line (exit 3)."""

from __future__ import annotations

import sys

import pytest

from api.http.tracing_extra import tracing_module
from ledger_store.eventstore.failures import ConfigurationError


def test_tracing_without_the_extra_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(sys.modules["api.http"], "tracing", raising=False)
    monkeypatch.setitem(sys.modules, "api.http.tracing", None)  # as if it could not be imported
    with pytest.raises(ConfigurationError, match=r"needs the otel extra") as refused:
        tracing_module()
    assert refused.value.exit_code == 3
