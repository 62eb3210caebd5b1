"""Celery tasks of the users domain."""
from contracts import AnonymiseUser
from workers.celery_app import app
from workers.steps import ContractTask
from workers.users import service


@app.task(base=ContractTask, name="users.anonymise", contracts=(AnonymiseUser,))
def anonymise(cmd):
    service.anonymise(cmd["user_id"])

