"""Optional OpenTelemetry tracing: a span per request, SQL spans under it on PostgreSQL, the
trace id in the JSON log lines written during the request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from api.http.auth import hash_token
from api.logging import JsonFormatter
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import Api, opened

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from api.http.tracing import current_trace_ids


@pytest.fixture
def traced(settings: Settings) -> Iterator[tuple[Api, InMemorySpanExporter]]:
    """The API with tracing on, its spans kept in memory."""
    exporter = InMemorySpanExporter()
    with opened(settings, tracing=True) as api:
        provider = api.client.app.state.tracer_provider  # type: ignore[attr-defined]
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        yield api, exporter


def test_requests_and_their_sql_are_traced_and_the_trace_id_is_logged(
    traced: tuple[Api, InMemorySpanExporter],
) -> None:
    api, exporter = traced
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter(current_trace_ids))
    access = logging.getLogger("eport.api.access")
    access.addHandler(handler)
    previous = access.level
    access.setLevel(logging.INFO)
    try:
        response = api.get("auditor", "/v1/audit/public-key")
    finally:
        access.removeHandler(handler)
        access.setLevel(previous)
    assert response.status_code == 200

    spans = exporter.get_finished_spans()
    (server,) = [s for s in spans if s.kind.name == "SERVER"]
    assert server.attributes is not None
    assert server.attributes.get("http.route") == "/v1/audit/public-key"
    trace_id = format(server.context.trace_id, "032x")
    (logged,) = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert logged["route"] == "/v1/audit/public-key"
    assert logged["trace_id"] == trace_id
    if api.services.settings.is_postgres:
        sql = [
            s
            for s in spans
            if s.kind.name == "CLIENT" and s.context.trace_id == server.context.trace_id
        ]
        assert sql, [s.name for s in spans]
        looked_up = hash_token(api.as_("auditor")["Authorization"].removeprefix("Bearer "))
        for span in sql:  # statements, never their parameters (here: the token's hash)
            assert looked_up not in json.dumps(dict(span.attributes or {}), default=str)


def test_probes_are_not_traced_and_no_trace_id_outside_a_request(
    traced: tuple[Api, InMemorySpanExporter],
) -> None:
    api, exporter = traced
    assert api.client.get("/healthz").status_code == 200
    assert [s for s in exporter.get_finished_spans() if s.kind.name == "SERVER"] == []
    assert current_trace_ids() is None
