"""Structured JSON logs: one object a line, only whitelisted fields, never personal data or tokens.

Routes are logged by their template (`/v1/keys/{card_no}`), never by the path or query string,
which can carry card numbers and holder names; principals by token id, never by name or token.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

import orjson

SAFE_FIELDS: Final = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "token_id",
    "role",
    "rule",
    "error_type",
    "frames",
    "position",
    "views",
    "host",
    "port",
    "database",
)

_OWN: Final = ("eport", "uvicorn", "projections", "ledger_store")
"""Loggers whose arguments are known to be safe; others are logged by their message template."""

TraceIds = Callable[[], tuple[str, str] | None]
"""The current trace and span id (hex), or None outside a trace (api/http/tracing.py)."""


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object with the whitelisted extra fields (and, with
    tracing on, the trace and span ids of the request it was logged in)."""

    def __init__(self, trace_ids: TraceIds | None = None) -> None:
        super().__init__()
        self.trace_ids = trace_ids

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage() if record.name.startswith(_OWN) else str(record.msg),
        }
        for field in SAFE_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
        ids = self.trace_ids() if self.trace_ids is not None else None
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        return orjson.dumps(entry, default=str).decode()


def configure_logging(
    level: str = "INFO", json: bool = True, trace_ids: TraceIds | None = None
) -> None:
    """Send every log record to stderr, as JSON lines unless `json` is False (formatted as
    they are logged, so `trace_ids` reads the trace they were logged in)."""
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(JsonFormatter(trace_ids))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # What our records never use, not gathered per record (the logging module's own advice):
    # the caller's file and line (a stack walk), thread and process names.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # it logs full paths and query strings
