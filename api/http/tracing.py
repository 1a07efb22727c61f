"""Optional tracing with OpenTelemetry (`EPORT_API_TRACING=true`, the `otel` extra): a span per
HTTP request (FastAPI's instrumentation) with a child span per SQL statement on PostgreSQL
(psycopg's). Spans go to an OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the trace id joins every JSON log line written
inside a request either way.

Spans name routes by their template and SQL by its statement text (with `?`/`%s`
placeholders): parameters, which hold personal data, are never recorded.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

log = logging.getLogger("eport.api")

UNTRACED = "healthz,readyz,metrics"
"""Probes and scrapes: frequent, and not what a trace is for."""
OTLP_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def current_trace_ids() -> tuple[str, str] | None:
    """The trace and span id (hex) of the span current here, or None outside any."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def tracer_provider(release: str) -> TracerProvider:
    """A provider for this process, exporting over OTLP when a collector is configured."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": "eport-ledger", "service.version": release})
    )
    if any(os.environ.get(name) for name in OTLP_VARIABLES):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        log.info("tracing without a collector (no OTEL_EXPORTER_OTLP_ENDPOINT): trace ids in logs")
    return provider


def trace_http(app: FastAPI, provider: TracerProvider) -> None:
    """A span per request (before the app first serves: its middleware is built then)."""
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=UNTRACED)


def trace_sql(provider: TracerProvider) -> None:
    """A span per psycopg statement on connections opened from now on (process-wide)."""
    PsycopgInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)


def stop_tracing(provider: TracerProvider) -> None:
    """Stop tracing SQL and send the spans still buffered."""
    PsycopgInstrumentor().uninstrument()
    provider.shutdown()
