"""ContractTask in a real worker on the real RabbitMQ, at task level.

The app and worker come from pytest-celery's ``celery.contrib.pytest`` fixtures
(``celery_app`` configured by ``celery_config``, ``celery_includes``,
``celery_worker_pool``, ``celery_worker_parameters``) and its ``start_worker``: an
embedded worker on the run's throwaway vhost, consuming a quorum queue declared exactly
as the domain queues are, with its dead-letter queue. pytest-celery 1.x's own
``celery_worker`` fixture starts workers in Docker containers (and shadows the embedded
one of the same name), so the embedded worker is started here by ``start_worker``, as
that fixture did. The per-queue worker processes of the other integration tests stay
where the deployment's shape matters.
"""
from __future__ import annotations

import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from kombu import Connection, Producer

import celeryconfig
from contracts import ConfirmSeats
from harness.processes import wait_for
from workers.steps import ContractTask, DomainError, TransientError

QUEUE = f"contract-test-{uuid.uuid4().hex[:8]}"
SOFT_LIMIT, HARD_LIMIT = 1, 2


@pytest.fixture(scope="module")
def celery_config():
    """The deployed settings that shape a step's life, on a queue of this module."""
    return {
        "broker_url": os.environ["CELERY_BROKER_URL"],
        "result_backend": os.environ["REDIS_URL"],  # outcomes, read back by the test
        "result_expires": 600,
        "task_queues": [celeryconfig.domain_queue(QUEUE)],
        "task_default_queue": QUEUE,
        "task_default_exchange": celeryconfig.TASK_EXCHANGE.name,
        "task_default_exchange_type": "topic",
        "task_default_routing_key": QUEUE,
        "task_create_missing_queues": False,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_consumer": "workers.consumer:DeadLetteringConsumer",
        "broker_transport_options": {"confirm_publish": True},
        "task_soft_time_limit": SOFT_LIMIT,
        "task_time_limit": HARD_LIMIT,
    }


@pytest.fixture(scope="module")
def celery_includes():
    return ("celery.contrib.testing.tasks",)  # celery.ping: start_worker's ready check


@pytest.fixture(scope="module")
def celery_worker_pool():
    return "prefork"  # time limits are enforced by the prefork pool, as deployed


@pytest.fixture(scope="module")
def celery_worker_parameters():
    return {"concurrency": 1, "shutdown_timeout": 30}


def register_steps(app) -> dict:
    """Steps of one contract that behave as the test needs, registered on ``app``."""
    def step(name, **options):
        return app.task(base=ContractTask, bind=True, name=f"contract_test.{name}",
                        contracts=(ConfirmSeats,), step_name=name, retry_backoff=1,
                        retry_backoff_max=1, **options)

    @step("echo")
    def echo(self, message):
        return {"saga_id": str(message["saga_id"]), "attempts": self.timing()["attempts"]}

    @step("flaky", max_retries=4)
    def flaky(self, message):
        if self.request.retries < 2:
            raise TransientError("the processor did not answer")
        return {"retries": self.request.retries}

    @step("always_down", max_retries=2)
    def always_down(self, message):
        raise TransientError(f"still down at attempt {self.request.retries + 1}")

    @step("refuses")
    def refuses(self, message):
        if self.request.retries == 0:
            raise DomainError("sold out")
        return "retried"  # never: a refusal is final

    @step("slow")
    def slow(self, message):
        time.sleep(HARD_LIMIT * 10)

    @step("stubborn")
    def stubborn(self, message):
        try:
            time.sleep(HARD_LIMIT * 10)
        except SoftTimeLimitExceeded:
            time.sleep(HARD_LIMIT * 10)  # ignores the soft limit: only the hard one stops it

    @app.task(name="contract_test.on_error")
    def on_error(request, exc, traceback):
        """An error callback as the sagas' is: run inline where the step failed, it hands
        the failure on as a message."""
        failure_seen.apply_async(({"failed_task": request.id, "error": type(exc).__name__},),
                                 task_id=f"seen-{request.id}")

    @app.task(name="contract_test.failure_seen")
    def failure_seen(failure):
        return failure

    return {t.name.split(".", 1)[1]: t for t in
            (echo, flaky, always_down, refuses, slow, stubborn, on_error)}


def failure_seen(app, result, timeout=30) -> dict:
    """What the error callback handed on about the step of ``result``."""
    return app.AsyncResult(f"seen-{result.id}").get(timeout=timeout)


@pytest.fixture
def embedded_worker(celery_app, celery_includes, celery_worker_pool, celery_worker_parameters):
    """The steps registered and a worker consuming QUEUE, its dead-letter queue declared."""
    for module in celery_includes:
        celery_app.loader.import_task_module(module)
    steps = register_steps(celery_app)
    with celery_app.connection_for_write() as conn:
        celeryconfig.dead_letter_queue(QUEUE)(conn.default_channel).declare()
    with start_worker(celery_app, pool=celery_worker_pool, **celery_worker_parameters) as worker:
        yield steps, worker


def message():
    return ConfirmSeats.build(saga_id=str(uuid.uuid4()))


def dead_letters(app) -> int:
    with Connection(app.conf.broker_url) as conn:
        return conn.default_channel.queue_declare(f"{QUEUE}.dead", passive=True).message_count


def still_serving(steps) -> None:
    """The worker answers a valid message after whatever came before."""
    sent = message()
    assert steps["echo"].delay(sent).get(timeout=30)["saga_id"] == sent["saga_id"]


def test_a_valid_message_runs_its_step_once(celery_app, embedded_worker):
    steps, _ = embedded_worker
    sent = message()

    result = steps["echo"].delay(sent).get(timeout=30)

    assert result == {"saga_id": sent["saga_id"], "attempts": 1}


def test_messages_that_are_not_the_contract_are_dead_lettered_and_the_worker_lives_on(
        celery_app, embedded_worker):
    steps, _ = embedded_worker
    before = dead_letters(celery_app)

    celery_app.send_task("contract_test.echo", args=({"contract": "Nonsense", "v": 1},))
    celery_app.send_task("contract_test.echo", args=(message(), message()))
    celery_app.send_task("contract_test.echo", kwargs={"surprise": True})
    celery_app.send_task("contract_test.no_such_step", args=(message(),))
    with Connection(celery_app.conf.broker_url) as conn:
        Producer(conn.default_channel, exchange=celeryconfig.TASK_EXCHANGE).publish(
            b"{not json", routing_key=QUEUE, content_type="application/json",
            content_encoding="utf-8", headers={"task": "contract_test.echo",
                                               "id": str(uuid.uuid4())})

    wait_for(lambda: dead_letters(celery_app) - before == 5, timeout=30,
             what=f"5 dead letters on {QUEUE}.dead")
    still_serving(steps)


def test_a_transient_error_is_retried_until_the_step_succeeds(celery_app, embedded_worker):
    steps, _ = embedded_worker

    result = steps["flaky"].delay(message()).get(timeout=60)

    assert result == {"retries": 2}


def test_a_transient_error_that_outlasts_the_retries_fails_the_step(celery_app,
                                                                     embedded_worker):
    steps, _ = embedded_worker

    with pytest.raises(TransientError, match="still down at attempt 3"):
        steps["always_down"].delay(message()).get(timeout=60)


def test_a_domain_refusal_fails_the_step_at_once_without_a_retry(celery_app, embedded_worker):
    steps, _ = embedded_worker

    with pytest.raises(DomainError, match="sold out"):  # a retry would have returned
        steps["refuses"].delay(message()).get(timeout=30)


def test_a_step_past_its_soft_time_limit_fails_and_its_error_callback_runs(celery_app,
                                                                            embedded_worker):
    steps, _ = embedded_worker
    result = steps["slow"].apply_async((message(),), link_error=steps["on_error"].s())

    with pytest.raises(SoftTimeLimitExceeded):
        result.get(timeout=30)
    assert failure_seen(celery_app, result) == {"failed_task": result.id,
                                                "error": "SoftTimeLimitExceeded"}
    still_serving(steps)


def test_a_step_that_ignores_the_soft_limit_is_killed_at_the_hard_one(celery_app,
                                                                       embedded_worker):
    steps, _ = embedded_worker
    result = steps["stubborn"].apply_async((message(),), link_error=steps["on_error"].s())

    with pytest.raises(TimeLimitExceeded):
        result.get(timeout=30)
    assert failure_seen(celery_app, result) == {"failed_task": result.id,
                                                "error": "TimeLimitExceeded"}
    still_serving(steps)  # the pool replaced the killed process
