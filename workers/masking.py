"""What monitors may see of a task's arguments.

Task events and Flower show a message's ``argsrepr``/``kwargsrepr`` headers. They are
made here, once, when any task message is made (``MaskingAMQP``, the Celery app's
``amqp``), with payment tokens, emails, passwords and ticket codes masked, so no monitor
ever shows them; the message body itself is unchanged.
"""
from __future__ import annotations

import re

from celery.app.amqp import AMQP

SENSITIVE_KEYS = {"payment_token", "email", "password", "code", "token", "refresh_token",
                  "access_token"}
EMAIL = re.compile(r"[^@\s'\"]+@[^@\s'\"]+\.[A-Za-z]{2,}")
MASK = "***"
REPR_MAXSIZE = 1024


def mask(value):
    """A copy of ``value`` with sensitive fields and anything like an email masked."""
    if isinstance(value, dict):
        return {k: MASK if str(k).lower() in SENSITIVE_KEYS else mask(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask(v) for v in value)
    if isinstance(value, str) and EMAIL.search(value):
        return EMAIL.sub(MASK, value)
    return value


def masked_repr(value) -> str:
    """The repr of ``value`` masked, cut at ``REPR_MAXSIZE`` characters."""
    text = repr(mask(value))
    return text if len(text) <= REPR_MAXSIZE else text[:REPR_MAXSIZE - 3] + "..."


class MaskingAMQP(AMQP):
    """Celery's messaging with the reprs of a task's arguments masked, made once (instead
    of Celery's own repr, made and then replaced)."""

    def as_task_v2(self, task_id, name, args=None, kwargs=None, *positional,
                   argsrepr=None, kwargsrepr=None, **options):
        return super().as_task_v2(
            task_id, name, args, kwargs, *positional,
            argsrepr=masked_repr(list(args) if isinstance(args, (list, tuple)) else args),
            kwargsrepr=masked_repr(dict(kwargs or {})), **options)
