"""The tracing module when EPORT_API_TRACING asks for it: it needs the `otel` extra, and
without it a process refuses to start in one line (exit 3) instead of running untraced."""

from __future__ import annotations

from types import ModuleType

from ledger_store.eventstore.failures import ConfigurationError


def tracing_module() -> ModuleType:
    """api/http/tracing.py, imported (OpenTelemetry is imported only through it)."""
    try:
        from api.http import tracing
    except ImportError as error:
        raise ConfigurationError(
            "EPORT_API_TRACING=true needs the otel extra "
            f"(pip install 'eport-ledger[otel]'): {error}"
        ) from None
    return tracing
