"""The dashboard in a real browser (Debian's headless Chromium through chromedriver):
log in, see a confirmed and a canceled saga with their timelines, retry a failed one and
watch it become canceled. Leaves a screenshot at docs/dashboard.png for the README."""
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from harness.processes import ROOT, free_port, wait_for
from tests.integration.conftest import recorded_purchase, wait_terminal

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOT = ROOT / "docs" / "dashboard.png"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1360,1000")


@pytest.fixture
def gateway(app):
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), \
        "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    profile = tempfile.mkdtemp(prefix="boxoffice-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def failed_saga(api, organizer, monkeypatch):
    """A purchase whose compensation gave up: ``failed``, waiting for an operator."""
    from datetime import timedelta

    from sqlalchemy import update

    from workers.db import transaction
    from workers.orchestration import watchdog
    from workers.orchestration.models import Saga
    from workers.orchestration.queries import get_saga
    from workers.steps import utcnow

    _, saga_id = recorded_purchase(api, organizer, monkeypatch, lost=True)
    with transaction() as s:
        s.execute(update(Saga).where(Saga.id == saga_id).values(
            status="compensating", reason="timed_out", redrives=3,
            updated_at=utcnow() - timedelta(hours=1)))
    watchdog.redrive_overdue()
    wait_for(lambda: get_saga(saga_id)["status"] == "failed", timeout=30, what="a failed saga")
    return str(saga_id)


def text_of(driver, css):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css).text


def test_an_admin_follows_sagas_and_retries_a_failed_one(
        api, organizer, monkeypatch, worker_processes, gateway, browser):
    from selenium.webdriver.common.by import By
    from workers.users.service import create_admin

    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    create_admin(email=email, password="ops-pass-word", name="Ops")
    event = api.event(organizer, capacity=20)
    confirmed = api.start(api.user(), event, quantity=2).get_json()["saga_id"]
    canceled = api.start(api.user(), event, token="tok_chargeDeclined").get_json()["saga_id"]
    wait_terminal([confirmed, canceled])
    failed = failed_saga(api, organizer, monkeypatch)

    browser.get(f"{gateway}/dashboard")
    assert "/dashboard/login" in browser.current_url
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys("ops-pass-word")
    browser.find_element(By.ID, "login").click()

    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, f'tr[data-id="{confirmed}"]'),
             timeout=15, what="the saga list")
    assert text_of(browser, f'tr[data-id="{confirmed}"] .badge') == "confirmed"
    assert text_of(browser, f'tr[data-id="{canceled}"] .badge') == "canceled"
    assert text_of(browser, f'tr[data-id="{failed}"] .badge') == "failed"
    assert int(text_of(browser, '.count[data-status="failed"] .n')) >= 1

    browser.get(f"{gateway}/dashboard/sagas/{confirmed}")
    steps = text_of(browser, "#steps tbody")
    assert all(name in steps for name in ("reserve", "charge", "confirm"))
    assert "charged" in text_of(browser, "#payment") and "valid" in text_of(browser, "#tickets")

    browser.get(f"{gateway}/dashboard/sagas/{canceled}")
    assert text_of(browser, "#saga-reason") == "payment_declined"
    assert "failed" in text_of(browser, "#steps tbody")

    browser.get(f"{gateway}/dashboard/sagas/{failed}")
    assert text_of(browser, "#saga-status") == "failed"
    browser.find_element(By.ID, "retry").click()
    # the click only starts the form's POST: the flash is on the page it redirects to
    flash = wait_for(lambda: [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".flash")],
                     timeout=15, what="the page after the retry")
    assert "re-driven" in flash[0]
    wait_for(lambda: text_of(browser, "#saga-status") == "canceled", timeout=60,
             what="the retried saga to show canceled")
    assert "release" in text_of(browser, "#steps tbody")

    browser.get(f"{gateway}/dashboard")
    wait_for(lambda: text_of(browser, f'tr[data-id="{failed}"] .badge') == "canceled",
             timeout=15, what="the list to show the retried saga canceled")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
