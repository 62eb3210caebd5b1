"""The relay of the task outbox (``workers.outbox``), run by beat."""
import logging

from workers import outbox
from workers.celery_app import app

log = logging.getLogger(__name__)


@app.task(name="outbox.relay", acks_late=True, ignore_result=True)
def relay():
    """Publish the task messages that stayed unsent after their commit."""
    sent = outbox.relay()
    if sent:
        log.warning("relayed %d task message(s) not sent at commit", sent)
    return sent
