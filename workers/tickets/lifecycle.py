"""The lifecycle of an event: the one table of the status changes allowed.

::

    draft ◄──► on_sale ◄──► sold_out
      │           │            │
      └───────────┴─────┬──────┘
                        ▼
                    canceled      (final: nothing about the event changes any more)

``canceled`` is reached only through ``cancel_event``, which also undoes its purchases;
setting the status a second time to what it is changes nothing.
"""
from __future__ import annotations

from contracts.statuses import EventStatus
from workers.tickets.errors import EventStatusConflict

DRAFT, ON_SALE, SOLD_OUT, CANCELED = (EventStatus.DRAFT, EventStatus.ON_SALE, EventStatus.SOLD_OUT,
                                      EventStatus.CANCELED)
TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    DRAFT: frozenset({ON_SALE, CANCELED}),
    ON_SALE: frozenset({DRAFT, SOLD_OUT, CANCELED}),
    SOLD_OUT: frozenset({ON_SALE, CANCELED}),
    CANCELED: frozenset(),
}


def check_editable(status: str) -> None:
    if status == EventStatus.CANCELED:
        raise EventStatusConflict("the event is canceled: it can no longer change")


def check_transition(current: str, new: str) -> None:
    """Refuse a status change the table does not allow (``EventStatusConflict``)."""
    check_editable(current)
    if new != current and new not in TRANSITIONS.get(current, ()):
        raise EventStatusConflict(f"an event that is {current} cannot become {new}")
