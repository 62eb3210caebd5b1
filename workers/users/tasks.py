"""Celery tasks of the users domain."""
from contracts import AnonymiseUser, SagaCompleted
from workers.celery_app import app
from workers.steps import ContractTask
from workers.users import notifications, service


@app.task(base=ContractTask, name="users.anonymise", contracts=(AnonymiseUser,))
def anonymise(cmd):
    service.anonymise(cmd["user_id"])


@app.task(base=ContractTask, name="users.saga_completed", contracts=(SagaCompleted,))
def saga_completed(event):
    """Tell the buyer how their purchase ended (one row per saga and status)."""
    notifications.record_saga_completed(event)
