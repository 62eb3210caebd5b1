"""`saga dlq` on the embedded spool broker: its `<queue>.dead` spool files are listed,
shown, replayed (only when valid) and purged, by the real command in its own process."""
import os
import subprocess
import sys
import uuid

import pytest

from harness.processes import ROOT

# Run in a child with the spool broker: a task message is published to `users`, taken
# and rejected -- the spool dead-letters it as RabbitMQ would -- then two more like it.
SETUP = """
import sys, uuid
from kombu import Queue
from workers import app
from workers.celery_app import app as capp
assert capp.conf.broker_url.startswith("spool://")
valid = str(uuid.uuid4())
with app.connection_for_write() as conn:
    app.send_task("users.anonymise", args=({"contract": "AnonymiseUser", "v": 1, "user_id": sys.argv[1]},),
                  task_id=valid, connection=conn)
    app.send_task("users.anonymise", args=({"contract": "Nonsense"},), task_id="bad-1", connection=conn)
    channel = conn.channel()
    for _ in range(2):
        message = Queue("users", no_declare=True).bind(channel).get(no_ack=False)
        message.reject(requeue=False)
print(valid)
"""


@pytest.fixture
def spool_env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("CELERY_BROKER_URL", "DATABASE_URL", "REDIS_URL")}
    env.update(BOXOFFICE_VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    return env


def run(env, *args):
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dlq(env, *args):
    return run(env, "-m", "celery", "-A", "workers", "saga", "dlq", *args)


def test_spool_dead_letters_list_show_replay_and_purge(spool_env, tmp_path):
    valid = run(spool_env, "-c", SETUP, str(uuid.uuid4())).strip()
    queue_dir = tmp_path / "broker" / "queue"

    assert "users.dead             2" in dlq(spool_env, "list", "users")
    shown = dlq(spool_env, "show", "users.dead")
    assert f"{valid}  task=users.anonymise" in shown and "valid" in shown
    assert "bad-1  task=users.anonymise" in shown and "invalid: not its contract" in shown

    replayed = dlq(spool_env, "replay", "users", "--all")

    assert f"replayed {valid} (users.anonymise) to users" in replayed
    assert "kept bad-1 in users.dead" in replayed
    assert len([p for p in os.listdir(queue_dir) if p.endswith(".users.msg")]) == 1
    assert "purged 1 message(s) from users.dead" in dlq(spool_env, "purge", "users", "--yes")
    assert "users.dead             0" in dlq(spool_env, "list", "users")
