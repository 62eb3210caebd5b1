"""`make run` on a machine with no servers: every process comes up on the embedded
default, a scripted purchase goes through them, and a SIGTERM stops them all."""
import re
import signal
import subprocess

import pytest
import requests

from harness.environment import child_env
from harness.processes import ROOT, free_port, kill_all_with_env, pids_with_env, wait_for


@pytest.fixture
def embedded_stack(tmp_path):
    port, flower = free_port(), free_port()
    var_dir = str(tmp_path / "var")
    env = child_env(BOXOFFICE_VAR_DIR=var_dir, BOXOFFICE_PORT=str(port),
                    FLOWER_PORT=str(flower), DATABASE_URL=None, CELERY_BROKER_URL=None,
                    REDIS_URL=None, BOXOFFICE_FAULT_INJECTION=None,
                    CELERY_TASK_LOG_LINES="true")  # a line per task, to see who ran what
    log = tmp_path / "make-run.log"
    with open(log, "wb") as out:
        make = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def healthy():
            assert make.poll() is None, log.read_text()[-3000:]
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
            except requests.RequestException:
                return False
        wait_for(healthy, timeout=120, interval=0.2, what="the gateway of make run")
        yield make, env, port, flower, log
    finally:
        if make.poll() is None:
            make.send_signal(signal.SIGTERM)
            try:
                make.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        kill_all_with_env("BOXOFFICE_VAR_DIR", var_dir)  # whatever outlived the stop
        make.wait()


def test_make_run_serves_a_purchase_across_separate_processes(embedded_stack):
    make, env, port, flower, log = embedded_stack

    demo = subprocess.run(["make", "demo"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert re.search(r"saga \S+: confirmed", demo.stdout)
    assert "seats left: 98/100" in demo.stdout
    text = log.read_text()
    assert "embedded (SQLite + spool broker)" in text
    assert "PUBLIC development secret" in text  # said loudly: tokens here are forgeable
    assert re.search(r"tickets\.1 .*Task tickets\.reserve_seats\[\S+\] succeeded", text)
    assert re.search(r"payments\.1 .*Task payments\.charge\[\S+\] succeeded", text)
    assert re.search(r"tickets\.1 .*Task tickets\.confirm_seats\[\S+\] succeeded", text)
    assert requests.get(f"http://127.0.0.1:{flower}/healthcheck", timeout=5).text == "OK"
    login = re.search(r"flower .*\(user:password (\S+):(\S+)\)", text).groups()
    assert requests.get(f"http://127.0.0.1:{flower}/", timeout=5).status_code == 401
    assert requests.get(f"http://127.0.0.1:{flower}/", auth=login, timeout=5).status_code == 200


def test_sigterm_to_make_stops_every_process(embedded_stack):
    make, env, port, flower, log = embedded_stack

    assert len(pids_with_env("BOXOFFICE_VAR_DIR", env["BOXOFFICE_VAR_DIR"])) >= 8
    make.send_signal(signal.SIGTERM)
    make.wait(timeout=60)

    wait_for(lambda: not pids_with_env("BOXOFFICE_VAR_DIR", env["BOXOFFICE_VAR_DIR"]),
             timeout=30, what="every process of the stack to exit")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
