"""Celery tasks of the users domain."""
from contracts import AnonymiseUser, SagaCompleted, SagaCompletedBatch
from workers.celery_app import app
from workers.steps import ContractTask
from workers.users import notifications, service


@app.task(base=ContractTask, name="users.anonymise", contracts=(AnonymiseUser,))
def anonymise(cmd):
    service.anonymise(cmd["user_id"])


@app.task(base=ContractTask, name="users.saga_completed", contracts=(SagaCompleted,))
def saga_completed(event):
    """Tell the buyer how their purchase ended (one row per saga and status): a single
    event, as earlier versions sent them."""
    notifications.record_saga_completed(event)


@app.task(base=ContractTask, name="users.sagas_completed", contracts=(SagaCompletedBatch,))
def sagas_completed(batch):
    """Tell each buyer how their purchase ended: the events the outbox relay sent together
    (one row per saga and status, whatever the number of deliveries)."""
    notifications.record_sagas_completed(batch["events"])
