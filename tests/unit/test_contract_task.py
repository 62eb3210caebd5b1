"""ContractTask.__call__ dead-letters (Reject, no requeue) any call that is not its contracts."""
import uuid

import pytest
from celery import Celery
from celery.exceptions import Reject
from marshmallow import ValidationError

from contracts import AnonymiseUser, ConfirmSeats, PaymentRefunded, RefundPayment
from workers.steps import ContractTask

app = Celery("t", set_as_current=False)
calls = []


@app.task(base=ContractTask, bind=True, name="t.two_messages",
          contracts=(ConfirmSeats, RefundPayment), step_name="confirm")
def two_messages(self, confirm, refund):
    calls.append((confirm, refund))
    return {"confirm": confirm, "refund": refund, "timing": self.timing()}


@app.task(base=ContractTask, bind=True, name="t.saga_and_user",
          contracts=(RefundPayment, AnonymiseUser))
def saga_and_user(self, refund, anonymise):
    calls.append((refund, anonymise))
    return "ran"


@pytest.fixture(autouse=True)
def request_context():
    """A pushed request, as the worker's tracer pushes one around each delivery."""
    calls.clear()
    for task in (two_messages, saga_and_user):
        task.push_request(id=str(uuid.uuid4()), retries=2)
    yield
    for task in (two_messages, saga_and_user):
        task.pop_request()


def _pair(saga_a=None, saga_b=None):
    saga_a = saga_a or str(uuid.uuid4())
    return ConfirmSeats.build(saga_id=saga_a), RefundPayment.build(saga_id=saga_b or saga_a)


def _rejected(task, *args, **kwargs) -> Reject:
    with pytest.raises(Reject) as err:
        task(*args, **kwargs)
    assert calls == [], "run() must not be called for an invalid message"
    assert err.value.requeue is False
    assert isinstance(err.value.__cause__, ValidationError)
    return err.value


def test_a_valid_call_returns_what_run_returns_with_parsed_messages():
    saga = uuid.uuid4()

    result = two_messages(*_pair(str(saga)))

    assert result["confirm"] == {"contract": "ConfirmSeats", "v": 1, "saga_id": saga}
    assert result["refund"] == {"contract": "RefundPayment", "v": 1, "saga_id": saga}
    assert len(calls) == 1


def test_a_valid_call_records_the_step_start_on_the_pushed_request():
    result = two_messages(*_pair())

    timing = result["timing"]
    assert timing["name"] == "confirm"
    assert timing["started_at"] is two_messages.request.step_started_at
    assert timing["started_at"] <= timing["finished_at"]
    assert timing["started_at"].tzinfo is not None
    assert timing["attempts"] == 3  # retries=2 on the pushed request


def test_the_same_saga_id_in_different_spellings_is_one_saga():
    saga = uuid.uuid4()

    two_messages(ConfirmSeats.build(saga_id=str(saga)),
                 RefundPayment.build(saga_id=str(saga).upper()))

    assert len(calls) == 1


def test_a_message_without_a_saga_id_does_not_count_as_another_saga():
    assert saga_and_user(RefundPayment.build(saga_id=str(uuid.uuid4())),
                         AnonymiseUser.build(user_id=str(uuid.uuid4()))) == "ran"


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_call_with_the_wrong_number_of_messages_is_rejected_without_requeue(count):
    confirm, refund = _pair()
    args = [confirm, refund, refund][:count]

    reject = _rejected(two_messages, *args)

    assert "takes 2 message(s)" in str(reject.reason)


def test_a_call_with_keyword_arguments_is_rejected_without_requeue():
    confirm, refund = _pair()

    reject = _rejected(two_messages, confirm, refund=refund)

    assert "refund" in str(reject.reason)


def test_extra_keyword_arguments_are_rejected_even_with_the_right_messages():
    _rejected(two_messages, *_pair(), priority=1)


@pytest.mark.parametrize("bad", [None, "ConfirmSeats", ["contract", "ConfirmSeats"]],
                         ids=["None", "str", "list"])
def test_a_non_dict_message_is_rejected_without_requeue(bad):
    _, refund = _pair()

    _rejected(two_messages, bad, refund)


def test_a_message_of_another_contract_is_rejected_without_requeue():
    saga = str(uuid.uuid4())

    _rejected(two_messages, RefundPayment.build(saga_id=saga), ConfirmSeats.build(saga_id=saga))


def test_a_message_with_an_unknown_field_is_rejected_without_requeue():
    confirm, refund = _pair()

    _rejected(two_messages, dict(confirm, extra=1), refund)


def test_a_message_of_an_unsupported_version_is_rejected_without_requeue():
    confirm, refund = _pair()

    _rejected(two_messages, dict(confirm, v=2), refund)


def test_messages_naming_different_sagas_are_rejected_without_requeue():
    reject = _rejected(two_messages, *_pair(str(uuid.uuid4()), str(uuid.uuid4())))

    assert "different sagas" in str(reject.reason)


def test_an_event_with_step_timing_is_validated_too():
    @app.task(base=ContractTask, bind=True, name="t.release",
              contracts=(PaymentRefunded,), step_name="release")
    def release(self, refunded):
        calls.append(refunded)
        return refunded["refunded_cents"]

    event = PaymentRefunded.build(saga_id=str(uuid.uuid4()), refunded_cents=0, step={
        "name": "refund", "started_at": "2026-11-25T12:00:00+00:00",
        "finished_at": "2026-11-25T12:00:01+00:00", "attempts": 1})
    release.push_request(retries=0)
    try:
        assert release(event) == 0
        calls.clear()
        _rejected(release, dict(event, step=dict(event["step"], attempts="many")))
    finally:
        release.pop_request()


def test_contract_task_does_not_retry_domain_errors_but_retries_transient_ones():
    from workers.steps import TRANSIENT, DomainError, TransientError

    assert TransientError in ContractTask.autoretry_for
    assert ContractTask.autoretry_for == TRANSIENT
    assert not any(issubclass(DomainError, t) for t in ContractTask.autoretry_for)
    assert DomainError in ContractTask.throws
    assert ContractTask.acks_late is True
