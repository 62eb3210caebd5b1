"""Worker consumer that dead-letters what it cannot read instead of dropping it.

Celery acknowledges (deletes) a message whose body it cannot decode; nothing accepted may
be lost, so here it is rejected without requeue and the queue's dead-letter exchange keeps
it for an operator. Unknown tasks and invalid task messages are already rejected that way.
"""
import logging

from celery.signals import worker_init
from celery.worker.consumer import Consumer

import celeryconfig

log = logging.getLogger(__name__)


class DeadLetteringConsumer(Consumer):
    def on_decode_error(self, message, exc):
        log.error(
            "dead-lettering undecodable message (content-type %r): %s",
            message.content_type, exc,
        )
        message.reject(requeue=False)


@worker_init.connect
def declare_dead_letter_queues(sender=None, **_):
    """Make sure each queue's dead-letter queue exists before anything is rejected."""
    app = sender.app
    if app.conf.broker_url.startswith("spool://"):
        return
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in app.conf.task_queues:  # the domain queues, as configured
            queue(channel).declare()
            celeryconfig.dead_letter_queue(queue.name)(channel).declare()
