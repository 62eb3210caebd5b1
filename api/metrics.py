"""``GET /metrics``: Prometheus figures of the business, read at scrape time from each
domain's own query functions (Flower's /metrics has the task figures).

Guarded: ``Authorization: Bearer <METRICS_TOKEN>`` (what Prometheus is configured with),
or an admin's access token.
"""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, current_app, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily

from api.errors import error_response
from workers.orchestration import queries as saga_queries
from workers.tickets import queries as tickets

blp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)


class BusinessCollector:
    def collect(self):
        sagas = GaugeMetricFamily("boxoffice_sagas", "Sagas by status and reason",
                                  labels=["status", "reason"])
        for status, reason, n in saga_queries.counts_by_status_and_reason():
            sagas.add_metric([status, reason], n)
        yield sagas
        steps = SummaryMetricFamily("boxoffice_saga_step_duration_seconds",
                                    "Duration of the saga steps that succeeded", labels=["step"])
        for step, count, total in saga_queries.step_durations():
            steps.add_metric([step], count_value=count, sum_value=total)
        yield steps
        backlog, age = saga_queries.outbox_backlog()
        yield GaugeMetricFamily("boxoffice_outbox_backlog", "Outbox messages not yet published",
                                value=backlog)
        yield GaugeMetricFamily("boxoffice_outbox_oldest_age_seconds",
                                "Age of the oldest unpublished outbox message", value=age)
        holds = GaugeMetricFamily("boxoffice_holds", "Seat holds by state", labels=["state"])
        for state, n in tickets.hold_counts().items():
            holds.add_metric([state], n)
        yield holds
        yield from _dead_letters()


def _dead_letters():
    from workers.deadletters import DeadLetters

    depth = GaugeMetricFamily("boxoffice_dead_letters", "Messages in each dead-letter queue",
                              labels=["queue"])
    up = GaugeMetricFamily("boxoffice_broker_up", "1 when the broker answered this scrape")
    try:
        with DeadLetters() as dl:
            for queue, n in dl.depths().items():
                depth.add_metric([queue], n)
        up.add_metric([], 1)
    except Exception:  # noqa: BLE001  the other figures still count
        log.warning("dead-letter depths unavailable", exc_info=True)
        up.add_metric([], 0)
    yield depth
    yield up


_registry = CollectorRegistry(auto_describe=False)
_registry.register(BusinessCollector())


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        verify_jwt_in_request()
    except Exception:  # noqa: BLE001  no token, a bad one, or a revoked one: not allowed
        return False
    return get_jwt().get("role") == "admin"


@blp.route("/metrics")
def metrics():
    if not _allowed():
        return error_response(401, "metrics need Authorization: Bearer <METRICS_TOKEN> "
                                   "or an admin's access token")
    return Response(generate_latest(_registry), mimetype=CONTENT_TYPE_LATEST)


def register(app, settings) -> None:
    app.config["METRICS_TOKEN"] = settings.metrics_token
    app.register_blueprint(blp)
