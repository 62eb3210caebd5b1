"""Logs: JSON lines in production, readable lines in development, each carrying the saga
id (inside a saga's task) and the trace id (where a trace is recording).

``LOG_FORMAT`` (``json`` | ``text``) and ``LOG_LEVEL`` override the defaults (settings.py).
Celery's logging signals set up the workers' handlers; the gateway's root logger is set up in
``create_app``.
"""
from __future__ import annotations

import contextvars
import logging
import sys

from celery.signals import after_setup_logger, after_setup_task_logger, task_postrun, task_prerun

from workers import runtime

_saga_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("saga_id", default=None)
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(processName)s %(message)s"


def log_format() -> str:
    return runtime.settings().log_format


class ContextFilter(logging.Filter):
    """Adds ``saga_id`` and ``trace_id`` (``None`` when there is none) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.saga_id = getattr(record, "saga_id", None) or _saga_id.get()
        record.trace_id = getattr(record, "trace_id", None) or _current_trace_id()
        return True


def _current_trace_id() -> str | None:
    from workers import telemetry

    if not telemetry.active():
        return None
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    return f"{ctx.trace_id:032x}" if ctx.is_valid else None


class TextFormatter(logging.Formatter):
    """The usual line, then ``saga=<id> trace=<id>`` when there are any."""

    def __init__(self, inner: logging.Formatter | None = None):
        super().__init__()
        self.inner = inner or logging.Formatter("[%(asctime)s: %(levelname)s/%(processName)s] %(name)s: %(message)s")

    def format(self, record):
        line = self.inner.format(record)
        tags = [f"{k}={v}" for k in ("saga_id", "trace_id") if (v := getattr(record, k, None))]
        return f"{line} {' '.join(tags)}" if tags else line


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                     "name": "logger", "processName": "process"},
                         json_default=str)


def _dress(logger: logging.Logger) -> None:
    for handler in logger.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
        if log_format() == "json":
            handler.setFormatter(json_formatter())
        elif not isinstance(handler.formatter, TextFormatter):
            handler.setFormatter(TextFormatter(handler.formatter))


@after_setup_logger.connect
def _worker_logger(logger=None, **_):
    _dress(logger)


@after_setup_task_logger.connect
def _task_logger(logger=None, **_):
    _dress(logger)


def saga_of(args) -> str | None:
    """The saga id a task's message arguments name, if any."""
    for arg in args or ():
        if isinstance(arg, dict) and arg.get("saga_id"):
            return str(arg["saga_id"])
    return None


@task_prerun.connect
def _enter_task(args=None, **_):
    _saga_id.set(saga_of(args))


@task_postrun.connect
def _leave_task(**_):
    _saga_id.set(None)


def configure_gateway() -> None:
    """The gateway's root logger: one stderr handler in the chosen format."""
    root = logging.getLogger()
    if any(getattr(h, "boxoffice", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.boxoffice = True
    handler.addFilter(ContextFilter())
    handler.setFormatter(json_formatter() if log_format() == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(runtime.settings().log_level)
