"""A step's retry policy is the settings' at run time, not when its task was defined."""
import dataclasses
import uuid

import pytest
from celery import Celery
from celery.exceptions import Retry

from contracts import ConfirmSeats
from workers import runtime
from workers.bootstrap import bootstrap
from workers.steps import ContractTask, TransientError

app = Celery("retry-policy", set_as_current=False)
runs = []


@app.task(base=ContractTask, bind=True, name="t.flaky", contracts=(ConfirmSeats,),
          retry_jitter=False)
def flaky(self, cmd):
    runs.append(self.request.retries)
    raise TransientError("down for now")


@pytest.fixture
def policy():
    """Run the process's root again with another retry policy; the old one after."""
    saved = runtime.settings()
    runs.clear()

    def use(**changes):
        bootstrap(dataclasses.replace(saved, **changes))
    yield use
    bootstrap(saved)


@app.task(base=ContractTask, bind=True, name="t.jittery", contracts=(ConfirmSeats,))
def jittery(self, cmd):
    raise TransientError("down for now")


def _retry_delay_after(retries: int, task=flaky) -> float:
    task.push_request(id=str(uuid.uuid4()), retries=retries, is_eager=True,
                       called_directly=False, args=[ConfirmSeats.build(saga_id=uuid.uuid4())])
    try:
        with pytest.raises(Retry) as retry:
            task.retry(exc=TransientError("down"))
    finally:
        task.pop_request()
    return retry.value.when


def test_a_changed_retry_limit_takes_effect_without_redefining_the_task(policy):
    message = ConfirmSeats.build(saga_id=uuid.uuid4())

    policy(step_max_retries=1)
    assert isinstance(flaky.apply(args=(message,)).result, TransientError)
    assert runs == [0, 1]

    runs.clear()
    policy(step_max_retries=3)
    assert isinstance(flaky.apply(args=(message,)).result, TransientError)
    assert runs == [0, 1, 2, 3]


def test_a_changed_backoff_maximum_bounds_the_next_retry(policy):
    policy(step_retry_backoff_max=7, step_max_retries=100)
    assert _retry_delay_after(retries=20) == 7
    assert _retry_delay_after(retries=0) == 2  # the backoff's first step, under the max

    policy(step_retry_backoff_max=42, step_max_retries=100)
    assert _retry_delay_after(retries=20) == 42


def test_a_jittered_retry_waits_at_least_a_second_and_at_most_the_backoff(policy):
    policy(step_retry_backoff_max=2, step_max_retries=100)

    delays = {_retry_delay_after(retries=0, task=jittery) for _ in range(200)}

    assert delays == {1, 2}  # full jitter draws 0, 1 or 2 s: 0 becomes 1
