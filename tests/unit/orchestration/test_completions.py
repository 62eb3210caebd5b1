"""The ``SagaCompleted`` events: written with the transition that ends a saga, sent by
the relay in batches (one message for all that are unsent), and kept while the broker
is down."""
import pytest

from tests.unit.orchestration.support import failure, outbox, outcome, saga, set_status, start
from workers.celery_app import app
from workers.orchestration import completion, service

pytestmark = pytest.mark.usefixtures("sqlite_db")


def completed_rows(saga_id) -> list:
    return [m for m in outbox(saga_id) if m.kind == "completed"]


def end_three_sagas() -> list:
    """A confirmed, a canceled (sold out) and a failed (compensation failed) saga."""
    confirmed, canceled, failed = (start()[0] for _ in range(3))
    service.record_outcome(outcome(confirmed, "SeatsConfirmed", "confirm", ticket_ids=[]))
    service.handle_step_failure(failure(canceled, "reserve", "SoldOut"))
    set_status(failed, "compensating")
    service.handle_step_failure(failure(failed, "release", "OperationalError"))
    return [confirmed, canceled, failed]


def test_sagas_that_ended_are_announced_together_in_one_message(sent):
    sagas = end_three_sagas()
    sent.messages.clear()

    assert completion.relay_completed() == 3

    assert sent.names() == ["users.sagas_completed"]
    [(batch,)] = sent.args_of("users.sagas_completed")
    assert batch["contract"] == "SagaCompletedBatch"
    assert [(e["saga_id"], e["status"]) for e in batch["events"]] == [
        (str(sagas[0]), "confirmed"), (str(sagas[1]), "canceled"), (str(sagas[2]), "failed")]
    assert all(m.sent_at is not None for s in sagas for m in completed_rows(s))
    assert completion.relay_completed() == 0  # nothing is sent twice
    assert len(sent.messages) == 1


def test_nothing_is_published_when_a_saga_ends(sent):
    saga_id, _ = start()
    sent.messages.clear()

    service.record_outcome(outcome(saga_id, "SeatsConfirmed", "confirm", ticket_ids=[]))

    assert saga(saga_id).status == "confirmed"
    assert sent.messages == []
    [row] = completed_rows(saga_id)
    assert row.sent_at is None


def test_the_general_relay_leaves_completions_to_their_batch(sent):
    saga_id, _ = start()
    service.record_outcome(outcome(saga_id, "SeatsConfirmed", "confirm", ticket_ids=[]))
    sent.messages.clear()

    service.relay_outbox(older_than_seconds=0)

    assert "users.saga_completed" not in sent.names()
    assert completed_rows(saga_id)[0].sent_at is None


def test_events_the_broker_could_not_take_stay_unsent_and_go_with_the_next_relay(
        sent, monkeypatch):
    sagas = end_three_sagas()
    recording = app.send_task

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(app, "send_task", refuse)
    with pytest.raises(ConnectionRefusedError):
        completion.relay_completed()
    assert all(m.sent_at is None for s in sagas for m in completed_rows(s))

    monkeypatch.setattr(app, "send_task", recording)  # the broker is back
    sent.messages.clear()
    assert completion.relay_completed() == 3
    [(batch,)] = sent.args_of("users.sagas_completed")
    assert len(batch["events"]) == 3


def test_a_batch_holds_at_most_its_size_and_the_rest_goes_next(sent):
    sagas = end_three_sagas()
    sent.messages.clear()

    assert completion.relay_completed(batch=2) == 2
    assert completion.relay_completed(batch=2) == 1

    batches = [batch["events"] for (batch,) in sent.args_of("users.sagas_completed")]
    assert [len(events) for events in batches] == [2, 1]
    assert sorted(e["saga_id"] for events in batches for e in events) == sorted(map(str, sagas))


def test_the_beat_relay_drains_more_than_a_batch_in_one_run(sent, monkeypatch):
    from workers.orchestration import tasks

    sagas = end_three_sagas()
    monkeypatch.setattr(completion, "BATCH", 2)
    sent.messages.clear()

    tasks.relay_outbox()

    batches = [batch["events"] for (batch,) in sent.args_of("users.sagas_completed")]
    assert [len(events) for events in batches] == [2, 1]
    assert all(m.sent_at is not None for s in sagas for m in completed_rows(s))
