"""What follows a check-in, off the door's path: the live count of arrivals per event."""
import logging

from contracts import TicketUsed
from workers.celery_app import app
from workers.steps import ContractTask
from workers.tickets import checkin

log = logging.getLogger(__name__)


@app.task(base=ContractTask, name="tickets.ticket_used", contracts=(TicketUsed,))
def ticket_used(event):
    arrived = checkin.record_arrival(event_id=event["event_id"], ticket_id=event["ticket_id"])
    log.info("ticket %s checked in to event %s at %s by %s; arrivals so far: %s",
             event["ticket_id"], event["event_id"], event["used_at"].isoformat(),
             event["used_by"], "not counted (no Redis)" if arrived is None else arrived)
