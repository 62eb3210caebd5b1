"""Flower asks for basic auth, and its task pages never show a payment token."""
import os
import signal
import subprocess
import sys

import pytest
import requests

from harness.environment import child_env
from harness.processes import ROOT, free_port, wait_for
from tests.integration.conftest import wait_terminal

pytestmark = pytest.mark.usefixtures("worker_processes")
LOGIN = ("ops", "flower-pass-word-1")
SECRET_TOKEN = "tok_visa"


@pytest.fixture
def flower(var_dir):
    port = free_port()
    log = open(var_dir / "flower.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers", "flower", "--address=127.0.0.1",
         f"--port={port}"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env=child_env(FLOWER_BASIC_AUTH=":".join(LOGIN)), start_new_session=True)
    log.close()
    base = f"http://127.0.0.1:{port}"

    def up():
        assert proc.poll() is None, (var_dir / "flower.log").read_text()[-2000:]
        try:
            return requests.get(f"{base}/healthcheck", timeout=2).text == "OK"
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=60, what="Flower")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_flower_refuses_requests_without_its_credentials(flower):
    assert requests.get(f"{flower}/", timeout=5).status_code == 401
    assert requests.get(f"{flower}/tasks", auth=("ops", "wrong"), timeout=5).status_code == 401
    assert requests.get(f"{flower}/api/tasks", timeout=5).status_code == 401
    assert requests.get(f"{flower}/", auth=LOGIN, timeout=5).status_code == 200


def test_task_pages_show_no_payment_token(flower, api, organizer):
    from workers import app

    app.control.enable_events()  # what Flower asks of every worker, done now to be sure
    event, buyer = api.event(organizer), api.user()
    saga_id = api.start(buyer, event, token=SECRET_TOKEN).get_json()["saga_id"]
    wait_terminal([saga_id])

    def charge_in_flower():
        tasks = requests.get(f"{flower}/api/tasks", params={"taskname": "payments.charge"},
                             auth=LOGIN, timeout=5).json()
        return [tid for tid, t in tasks.items() if saga_id in (t.get("args") or "")]

    (task_id,) = wait_for(charge_in_flower, timeout=30, what="the charge task in Flower")
    listing = requests.get(f"{flower}/api/tasks", auth=LOGIN, timeout=5).text
    page = requests.get(f"{flower}/task/{task_id}", auth=LOGIN, timeout=5)

    assert page.status_code == 200 and saga_id in page.text
    assert "'payment_token': '***'" in requests.get(
        f"{flower}/api/task/info/{task_id}", auth=LOGIN, timeout=5).json()["args"]
    assert SECRET_TOKEN not in page.text and SECRET_TOKEN not in listing
    assert buyer["email"] not in listing
