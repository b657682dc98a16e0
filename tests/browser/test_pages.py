"""The inbox demo page and the operator dashboard in headless Chromium, against a running server."""

from __future__ import annotations

import json

import httpx
import pytest

from notifications.testing import make_event

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def api_key(shared_db) -> str:
    return shared_db.run_python("from notifications.api.models import ApiKey; print(ApiKey.issue('demo')[1])").strip()


def test_inbox_page_updates_live_and_marks_read(browser, server, shared_db):
    key = api_key(shared_db)
    httpx.post(f"{server.url}/api/v1/events", headers={"X-API-Key": key},
               json=make_event("task.assigned", "demo", user_id="ada", task_title="Earlier task"))
    page = browser.new_page()
    page.goto(f"{server.url}/inbox/?user=ada")
    page.wait_for_selector(".item")
    page.wait_for_function("document.getElementById('status').textContent === 'live'")
    assert page.text_content("#badge") == "1"

    # An event arrives while the page is open: it shows up without a reload.
    response = httpx.post(f"{server.url}/api/v1/events", headers={"X-API-Key": key},
                          json=make_event("comment.mentioned", "demo", user_id="ada", comment_text="Look at this!"))
    assert response.json()["results"][0]["outcome"] == "processed"
    page.wait_for_selector(".item >> text=Look at this!", timeout=10_000)
    page.wait_for_function("document.getElementById('badge').textContent === '2'")
    assert page.locator(".item").first.text_content().startswith("Jane Smith mentioned you")

    page.locator(".item").first.locator("button.mark-read").click()
    page.wait_for_function("document.getElementById('badge').textContent === '1'")
    page.click("#read-all")
    page.wait_for_function("document.getElementById('badge').dataset.count === '0'")
    # The stream's count update may beat the read-all response that clears the items' unread state.
    page.wait_for_function("document.querySelectorAll('.item.unread').length === 0", timeout=10_000)
    assert page.locator(".item.unread").count() == 0
    page.screenshot(path=str(shared_db.env["NOTIFICATIONS_VAR_DIR"]) + "/inbox.png")


def test_dashboard_charts_failures_and_retry(browser, server, shared_db):
    shared_db.run_python("""
from django.contrib.auth.models import User
from notifications.intake.service import process_events
from notifications.models import NotificationRecord
from django.db import transaction
from notifications.testing import make_event
User.objects.create_superuser("ops", "ops@example.com", "ops-password-1")
# One transaction: the running worker (woken when intake commits) must not send these before they are failed.
with transaction.atomic():
    process_events([make_event("user.login.failed", "demo", user_id=f"u{n}") for n in range(6)])
    NotificationRecord.objects.filter(channel="sms", user_id__in=["u0", "u1", "u2"]).update(status="failed",
                                                                                           reason="twilio_21211")
    NotificationRecord.objects.filter(channel="sms", user_id="u3").update(status="failed", reason="timeout")
    process_events([{**make_event("task.assigned", "demo", user_id="later"), "delay": 3600}])  # waits an hour
""")
    import time

    for _ in range(50):  # let the in-process worker send the rest
        records = json.loads(shared_db.run_python(
            "import json; from notifications.models import NotificationRecord as R;"
            "print(json.dumps(list(R.objects.filter(status='pending').values_list('id', flat=True))))"))
        if not records:
            break
        time.sleep(0.2)
    page = browser.new_page()
    page.goto(f"{server.url}/admin/login/?next=/dashboard/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "ops-password-1")
    page.click("input[type=submit]")
    page.wait_for_selector("section.chart")

    channels = page.locator("section.chart").evaluate_all("els => els.map(e => e.dataset.channel)")
    assert set(channels) >= {"email", "sms"}
    assert page.locator("section.chart[data-channel=sms] rect.bar.failed").count() >= 1
    assert page.locator("section.chart[data-channel=email] rect.bar.sent").count() >= 1
    reasons = page.locator("#reasons tr.row").all_text_contents()
    assert reasons[0].startswith("twilio_21211") and reasons[0].endswith("3")
    assert "Kafka is not configured" in page.text_content("#lag")
    waiting = page.locator("#waiting tr.row").all_text_contents()
    assert waiting and waiting[0].startswith("scheduled") and int(waiting[0][len("scheduled"):]) >= 2

    row = page.locator("#failures tr.row").first
    record_id = row.get_attribute("data-id")
    row.locator("button.retry").click()
    page.wait_for_selector(f"#failures tr.row[data-id='{record_id}'] >> text=queued")
    status = shared_db.scalar(f"SELECT status FROM notifications_notificationrecord WHERE id = {int(record_id)}")  # noqa: S608 - an integer
    assert status in ("pending", "sending", "sent", "retrying")


def test_api_docs_work_without_internet(browser, server):
    """The API docs page is served with its own assets: nothing is fetched from outside the service."""
    page = browser.new_page()
    outside: list[str] = []

    def only_local(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # Swagger UI ran and read the OpenAPI spec
    assert page.locator(".swagger-ui .opblock").count() >= 10
    assert outside == []


def test_dashboard_shows_fanout_progress(browser, server, shared_db):
    shared_db.run_python("""
from django.contrib.auth.models import User
from notifications.audiences.runner import run_until_idle
from notifications.intake.service import process_events
from notifications.tenants.models import Contact, Tenant
from notifications.testing import make_event
User.objects.create_superuser("ops", "ops@example.com", "ops-password-1")
Tenant.objects.get_or_create(id="demo", defaults={"name": "Demo"})
Contact.objects.bulk_create([Contact(tenant_id="demo", user_id=f"fan-{n}", email=f"fan-{n}@example.com")
                             for n in range(8)])
event = make_event("task.assigned", "demo", user_id=None, email=None)
process_events([{**event, "recipients": [f"fan-{n}" for n in range(8)] + ["nobody"]}])
run_until_idle(size=3)
""")
    page = browser.new_page()
    page.goto(f"{server.url}/admin/login/?next=/dashboard/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "ops-password-1")
    page.click("input[type=submit]")
    row = page.locator("#fanouts tr.row").first
    row.wait_for()
    cells = row.locator("td").all_text_contents()
    assert cells[1:5] == ["demo", "task.assigned", "recipients", "done"]
    assert cells[5].strip() == "100% 9/9" and "unknown_recipient" in cells[7]
    assert row.locator(".meter.done span").evaluate("e => e.style.width") == "100%"
    assert page.locator("#no-fanouts").is_hidden()
