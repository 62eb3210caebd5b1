"""Dashboard pages: the live saga list, a saga's timeline, retry and compensate."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for

from api.dashboard import bp
from api.dashboard.session import (
    admin_action, check_csrf, csrf_token, current_user, log_in, viewer_required,
)
from contracts.statuses import SagaReason, SagaStatus
from workers.orchestration import queries, service
from workers.payments.service import payment_of_saga
from workers.steps import DomainError
from workers.tickets import queries as tickets
from workers.users import service as users
from workers.users.errors import InvalidCredentials

log = logging.getLogger(__name__)
UNFINISHED = (*SagaStatus.in_flight(), SagaStatus.FAILED)


@bp.app_context_processor
def _globals():
    return {"csrf_token": csrf_token, "user": current_user}


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        check_csrf()
        try:
            user = users.authenticate(email=request.form.get("email", ""),
                                      password=request.form.get("password", ""))
        except InvalidCredentials:
            user, error = None, "wrong email or password"
        if user and user["role"] not in ("admin", "staff"):
            user, error = None, "the dashboard is for admin and staff accounts"
        if user:
            log_in(user)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/dashboard") else url_for("dashboard.index"))
    return render_template("dashboard/login.html", error=error), 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for("dashboard.login"))


def _filters() -> dict:
    args = request.args
    status = args.get("status") or None
    if status and status not in queries.STATUSES:
        abort(400, description=f"unknown status {status!r}")
    try:
        event_id = uuid.UUID(args["event"]) if args.get("event") else None
        idle = int(args["idle"]) if args.get("idle") else None
    except ValueError:
        abort(400, description="event must be an event id, idle a number of minutes")
    return {"status": status, "reason": args.get("reason") or None, "event_id": event_id,
            "idle_minutes": idle}


def _row(s: dict) -> dict:
    return {"id": str(s["id"]), "status": s["status"], "reason": s["reason"] or "",
            "event_id": str(s["event_id"]), "quantity": s["quantity"],
            "amount": _money(s["amount_cents"], s["currency"]),
            "created_at": _when(s["created_at"]), "updated_at": _when(s["updated_at"]),
            "url": url_for("dashboard.saga", saga_id=s["id"])}


def _money(cents, currency) -> str:
    return "" if cents is None else f"{cents / 100:.2f} {currency or ''}".strip()


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _dead_letters() -> dict[str, int | str]:
    from workers.deadletters import DeadLetters, all_queues

    try:
        with DeadLetters() as dl:
            return dl.depths()
    except Exception:  # noqa: BLE001  the page still shows the sagas
        log.warning("dead-letter depths unavailable", exc_info=True)
        return {q: "unavailable" for q in all_queues()}


@bp.route("")
@viewer_required()
def index():
    filters = _filters()
    rows = [_row(s) for s in queries.search(**filters)]
    return render_template("dashboard/index.html", rows=rows, counts=queries.counts_by_status(),
                           statuses=queries.STATUSES, reasons=queries.reasons(),
                           filters=request.args, dead=_dead_letters())


@bp.route("/sagas.json")
@viewer_required(json=True)
def sagas_json():
    rows = [_row(s) for s in queries.search(**_filters())]
    return jsonify(counts=queries.counts_by_status(), items=rows, dead_letters=_dead_letters())


def _saga_or_404(saga_id) -> dict:
    saga = queries.get_saga(saga_id)
    if saga is None:
        abort(404, description="no such saga")
    return saga


@bp.route("/sagas/<uuid:saga_id>")
@viewer_required()
def saga(saga_id):
    found = _saga_or_404(saga_id)
    found["payment"] = payment_of_saga(saga_id)
    found["tickets"] = [{"id": t["id"], "status": t["status"]} for t in tickets.tickets_of_saga(saga_id)]
    return render_template("dashboard/saga.html", saga=found, money=_money, when=_when,
                           can_retry=found["status"] in UNFINISHED,
                           can_compensate=found["status"] in UNFINISHED)


@bp.route("/sagas/<uuid:saga_id>.json")
@viewer_required(json=True)
def saga_json(saga_id):
    found = _saga_or_404(saga_id)
    return jsonify(status=found["status"], reason=found["reason"] or "", error=found["error"] or "",
                   steps=[{**st, "started_at": _when(st["started_at"]),
                           "finished_at": _when(st["finished_at"])} for st in found["steps"]])


def _act(saga_id, action, done: str):
    _saga_or_404(saga_id)
    try:
        action(saga_id)
    except DomainError as exc:
        flash(str(exc) or type(exc).__name__, "error")
    else:
        log.info("dashboard: %s %s saga %s", current_user()["email"], done, saga_id)
        flash(f"{done}: the saga is on its way", "ok")
    return redirect(url_for("dashboard.saga", saga_id=saga_id))


@bp.route("/sagas/<uuid:saga_id>/retry", methods=["POST"])
@admin_action
def retry(saga_id):
    return _act(saga_id, service.retry, "re-driven")


@bp.route("/sagas/<uuid:saga_id>/compensate", methods=["POST"])
@admin_action
def compensate(saga_id):
    return _act(saga_id, lambda sid: service.compensate(sid, reason=SagaReason.OPERATOR_CANCELED),
                "compensation sent")
