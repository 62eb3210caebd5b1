"""Tracing with OpenTelemetry: Flask requests, Celery tasks and SQL, one trace per purchase.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (spans go there over OTLP/HTTP, with the
standard ``OTEL_*`` variables: service name, headers, sampler) or ``BOXOFFICE_TRACE_FILE``
names a file to append spans to as JSON lines (tests). The trace context crosses queues
in the task headers (Celery instrumentation); a saga keeps the ``traceparent`` of the
request that started it, so whatever is published for it later -- by the outbox relay,
the watchdog or an operator -- continues the purchase's trace.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager

_configured_pid: int | None = None


def enabled() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("BOXOFFICE_TRACE_FILE"))


def active() -> bool:
    """Tracing was set up in this process."""
    return _configured_pid == os.getpid()


def setup(default_service: str) -> bool:
    """Install the tracer provider and the Celery and SQLAlchemy instrumentation (once per
    process; call it after a fork). Returns whether tracing is on."""
    global _configured_pid
    if not enabled():
        return False
    if _configured_pid == os.getpid():
        return True
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or default_service})
    provider = TracerProvider(resource=resource)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if os.environ.get("BOXOFFICE_TRACE_FILE"):
        provider.add_span_processor(BatchSpanProcessor(
            JsonLinesExporter(os.environ["BOXOFFICE_TRACE_FILE"]), schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    from workers.celery_app import app

    app.loader.import_default_modules()  # the instrumentation finds tasks by name
    CeleryInstrumentor().instrument(tracer_provider=provider)
    SQLAlchemyInstrumentor().instrument(tracer_provider=provider, enable_commenter=False)
    _trace_new_engines()
    _configured_pid = os.getpid()
    return True


def _trace_new_engines() -> None:
    """Engines are built on first use in each process: have them built by the instrumented
    ``create_engine`` (workers.db imported the plain one), and drop one built before."""
    import sqlalchemy

    from workers import db

    db.create_engine = sqlalchemy.create_engine
    db.dispose_engine()


def instrument_flask(app) -> None:
    if setup("boxoffice-gateway"):
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        FlaskInstrumentor().instrument_app(app, excluded_urls="healthz,readyz,metrics,dashboard/static")


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the active span, to keep with a saga (None: no tracing)."""
    if not active():
        return None
    from opentelemetry.propagate import inject

    carrier: dict = {}
    inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def continuing(traceparent: str | None):
    """Make ``traceparent`` (a saga's) the parent of the spans opened inside."""
    if not traceparent or not active():
        yield
        return
    from opentelemetry import context
    from opentelemetry.propagate import extract

    token = context.attach(extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        context.detach(token)


class JsonLinesExporter:
    """A span exporter appending one JSON object per span to a file (several processes
    may share it: each line is written under an exclusive lock)."""

    def __init__(self, path: str):
        self.path = path

    def export(self, spans):
        import fcntl

        from opentelemetry.sdk.trace.export import SpanExportResult

        lines = "".join(json.dumps(_span(s), default=str) + "\n" for s in spans)
        with open(self.path, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(lines)
            fcntl.flock(f, fcntl.LOCK_UN)
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _span(span) -> dict:
    ctx, parent = span.get_span_context(), span.parent
    return {"name": span.name, "trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}",
            "parent_id": f"{parent.span_id:016x}" if parent else None,
            "service": span.resource.attributes.get("service.name"),
            "kind": span.kind.name, "start_ns": span.start_time, "end_ns": span.end_time,
            "attributes": dict(span.attributes or {})}
