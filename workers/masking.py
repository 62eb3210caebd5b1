"""What monitors may see of a task's arguments.

Task events and Flower show a message's ``argsrepr``/``kwargsrepr`` headers. They are
rewritten here, when any task is published, with payment tokens, emails, passwords and
ticket codes masked, so no monitor ever shows them; the message body itself is unchanged.
"""
from __future__ import annotations

import re

from celery.signals import before_task_publish
from celery.utils.saferepr import saferepr

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


@before_task_publish.connect
def _mask_argument_reprs(body=None, headers=None, **_):
    if headers is None or not isinstance(body, (list, tuple)) or len(body) != 3:
        return  # only task protocol 2 carries the reprs in its headers
    args, kwargs, _embed = body
    headers["argsrepr"] = saferepr(mask(list(args)), REPR_MAXSIZE)
    headers["kwargsrepr"] = saferepr(mask(dict(kwargs)), REPR_MAXSIZE)
