"""What a worker cannot use goes to its queue's dead-letter queue; the worker lives on."""
import uuid

import pytest
from kombu import Connection, Producer

from celeryconfig import TASK_EXCHANGE

from harness.processes import wait_for
from tests.integration.conftest import QUEUES

pytestmark = pytest.mark.usefixtures("worker_processes")

# a real task of each queue, given a message that is not its contract
TASK_OF = {"tickets": "tickets.reserve_seats", "payments": "payments.refund",
           "orchestration": "orchestration.record_step", "users": "users.anonymise"}


def dead_letters(conn, queue) -> int:
    return conn.default_channel.queue_declare(f"{queue}.dead", passive=True).message_count


@pytest.mark.parametrize("queue", QUEUES)
def test_malformed_messages_are_dead_lettered_and_the_worker_stays_up(queue, worker_processes):
    from workers import app

    with Connection(app.conf.broker_url) as conn:
        before = dead_letters(conn, queue)
        producer = Producer(conn.default_channel, exchange=TASK_EXCHANGE)
        producer.publish(b"{not json", routing_key=queue, content_type="application/json",
                         content_encoding="utf-8", headers={"task": TASK_OF[queue],
                                                            "id": str(uuid.uuid4())})
        app.send_task(f"{queue}.no_such_task", args=({"contract": "x"},), queue=queue)
        app.send_task(TASK_OF[queue], args=({"contract": "Nonsense", "v": 1},), queue=queue)
        app.send_task(TASK_OF[queue], args=(), kwargs={"surprise": True}, queue=queue)

        wait_for(lambda: dead_letters(conn, queue) - before == 4, timeout=30,
                 what=f"4 dead letters on {queue}.dead")

    worker = worker_processes[queue]
    assert worker.alive
    replies = app.control.ping(destination=[worker.name], timeout=5)
    assert replies and worker.name in replies[0]
    assert "invalid message" in worker.log_text() or "dead-lettering" in worker.log_text()
