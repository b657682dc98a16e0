"""The end-user inbox: JWT auth, pagination, read state, and the live SSE stream."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from notifications.channels.models import InAppMessage
from notifications.intake.service import process_events
from notifications.testing import make_event
from tests.fixtures import INBOX_SECRET, ApiClient, inbox_token
from tests.helpers import free_port

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def inbox(token: str) -> ApiClient:
    client = ApiClient(None)
    client.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return client


@pytest.fixture
def messages(tenant, inbox_settings):
    process_events([make_event("task.assigned", task_id=f"T-{n}", task_title=f"Task {n}") for n in range(25)])
    process_events([make_event("task.assigned", "globex", task_id="G-1")])  # another tenant, same user id
    process_events([make_event("task.assigned", user_id="u-2", task_id="X-1")])  # another user


@pytest.mark.parametrize("token", [
    inbox_token(ttl=-10),                                  # expired
    inbox_token(secret="not-the-secret-but-long-enough-for-hs256"),  # wrong signature
    inbox_token(tenant_id=""),                             # no tenant claim
    "not.a.jwt",
])
def test_bad_tokens_are_refused(messages, token):
    assert inbox(token).get("/inbox/messages").status_code == 401


def test_token_without_expiry_is_refused(messages):
    import jwt

    token = jwt.encode({"sub": "u-1", "tenant_id": "acme"}, INBOX_SECRET, algorithm="HS256")
    assert inbox(token).get("/inbox/unread-count").status_code == 401


def test_api_keys_are_not_inbox_tokens(messages, api_a):
    key = api_a.headers["HTTP_X_API_KEY"]
    assert inbox(key).get("/inbox/messages").status_code == 401


def test_list_pages_with_a_cursor_and_only_shows_the_users_messages(messages):
    client = inbox(inbox_token())
    first = client.get("/inbox/messages?limit=10").json()
    second = client.get(f"/inbox/messages?limit=10&cursor={first['next_cursor']}").json()
    third = client.get(f"/inbox/messages?limit=10&cursor={second['next_cursor']}").json()

    titles = [m["title"] for page in (first, second, third) for m in page["items"]]
    assert titles == [f"New task: Task {n}" for n in reversed(range(25))]
    assert third["next_cursor"] is None and first["unread"] == 25


def test_read_state_archive_and_counts(messages):
    client = inbox(inbox_token())
    newest = client.get("/inbox/messages?limit=1").json()["items"][0]

    assert client.post(f"/inbox/messages/{newest['id']}/read").json()["read"] is True
    assert client.get("/inbox/unread-count").json() == {"unread": 24}
    assert len(client.get("/inbox/messages?unread=true&limit=100").json()["items"]) == 24
    assert client.post(f"/inbox/messages/{newest['id']}/archive").json()["archived"] is True
    assert newest["id"] not in [m["id"] for m in client.get("/inbox/messages?limit=100").json()["items"]]
    assert [m["id"] for m in client.get("/inbox/messages?archived=true").json()["items"]] == [newest["id"]]
    assert client.post("/inbox/read-all").json() == {"unread": 0}
    assert InAppMessage.objects.filter(user_id="u-2", read_at__isnull=True).count() == 1  # not someone else's


def test_another_users_message_cannot_be_touched(messages):
    theirs = InAppMessage.objects.get(user_id="u-2")
    other_tenant = InAppMessage.objects.get(tenant_id="globex")
    client = inbox(inbox_token())
    assert client.post(f"/inbox/messages/{theirs.pk}/read").status_code == 404
    assert client.post(f"/inbox/messages/{other_tenant.pk}/archive").status_code == 404
    assert inbox(inbox_token("globex")).get("/inbox/unread-count").json() == {"unread": 1}


def read_sse(url: str, events: list, stop: threading.Event) -> None:
    try:
        with httpx.stream("GET", url, timeout=30) as response:
            name = None
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[6:])))
    except httpx.HTTPError:
        if not stop.is_set():
            raise


@pytest.mark.slow
def test_sse_stream_pushes_new_messages_and_counts(tmp_path, shared_db):
    """A real server (uvicorn, `manage.py serve`); an event posted to the API reaches the open stream. On
    PostgreSQL the event is taken in by another process and arrives through LISTEN/NOTIFY."""
    env = {**shared_db.env, "NOTIFICATIONS_INBOX_JWT_SECRET": INBOX_SECRET,
           "NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.2"}
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port)], env=env,
                              cwd=ROOT, stdout=open(tmp_path / "serve.log", "wb"),  # noqa: SIM115 - the server's life
                              stderr=subprocess.STDOUT)
    events: list = []
    stop = threading.Event()
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        token = inbox_token("acme", "u-live")
        reader = threading.Thread(target=read_sse, args=(f"{base}/api/v1/inbox/stream?token={token}", events, stop),
                                  daemon=True)
        reader.start()
        for _ in range(200):
            if events:
                break
            time.sleep(0.1)
        assert events[:1] == [("count", {"unread": 0})]

        event = make_event("comment.mentioned", "acme", user_id="u-live", comment_text="live one")
        if shared_db.is_postgres:  # another process takes it in; NOTIFY carries it over
            subprocess.run([sys.executable, str(ROOT / "manage.py"), "publish_event", "app-events",
                            json.dumps(event)], env=env, cwd=ROOT, check=True, capture_output=True)
        else:
            key = shared_db.run_python(
                "from notifications.api.models import ApiKey; print(ApiKey.issue('acme')[1])").strip()
            response = httpx.post(f"{base}/api/v1/events", json=event, headers={"X-API-Key": key}, timeout=10)
            assert response.json()["results"][0]["outcome"] == "processed"
        for _ in range(200):
            if any(name == "message" for name, _ in events) and ("count", {"unread": 1}) in events:
                break
            time.sleep(0.1)
        messages = [data for name, data in events if name == "message"]
        assert [m["body"] for m in messages] == ["live one"]
        assert ("count", {"unread": 1}) in events
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=20)
    log = (tmp_path / "serve.log").read_text()
    assert "GET /api/v1/inbox/stream" in log and token not in log  # the token in the URL is not logged
