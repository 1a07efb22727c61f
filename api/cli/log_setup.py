"""The logging of the long-running commands: `serve` and `worker` write the same JSON lines
(api/logging.py), configured from the same settings (EPORT_API_LOG_LEVEL, EPORT_API_LOG_JSON)."""

from __future__ import annotations

from pydantic import ValidationError

from api.http.settings import ApiSettings
from api.http.tracing_extra import tracing_module
from api.logging import configure_logging
from ledger_store.eventstore.settings import settings_error


def start_logging() -> ApiSettings:
    """The service settings (a wrong one is refused in one line, exit 3), with logging
    configured from them; trace ids join the lines when EPORT_API_TRACING is on."""
    try:
        api = ApiSettings()
    except ValidationError as error:
        raise settings_error(error, ApiSettings) from None
    trace_ids = tracing_module().current_trace_ids if api.tracing else None
    configure_logging(api.log_level, api.log_json, trace_ids=trace_ids)
    return api
