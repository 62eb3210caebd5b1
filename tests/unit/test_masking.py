"""Monitors see a task's arguments masked: the reprs in every message's headers."""
from workers.celery_app import app
from workers.masking import REPR_MAXSIZE


def _headers(args, kwargs=None) -> dict:
    return app.amqp.create_task_message("t-1", "payments.charge", args, kwargs or {}).headers


def test_tokens_emails_and_passwords_are_masked_in_the_headers_not_in_the_body():
    message = {"saga_id": "s-1", "payment_token": "tok_visa", "note": "mail ann@example.org"}
    made = app.amqp.create_task_message("t-1", "payments.charge", (message,), {"password": "pw"})

    assert made.headers["argsrepr"] == "[{'saga_id': 's-1', 'payment_token': '***', 'note': 'mail ***'}]"
    assert made.headers["kwargsrepr"] == "{'password': '***'}"
    assert made.body[0] == (message,)


def test_a_long_repr_is_cut():
    argsrepr = _headers(({"items": "x" * 5000},))["argsrepr"]

    assert len(argsrepr) == REPR_MAXSIZE and argsrepr.endswith("...")
