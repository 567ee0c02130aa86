"""The JSON webhook notifier against a real HTTP server on loopback."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from nswoo.notify import Alert, NotifyError, WebhookNotifier

pytestmark = pytest.mark.anyio

ALERT = Alert(
    "schema-drift:salesOrder:custbody_region",
    "salesOrder field custbody_region (Region) added, mandatory",
    "Every new sales order now fails.",
    "critical",
    dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC),
)


@contextmanager
def receiver(status: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server answering `status` to every POST; yields its URL and the bodies."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/T000/B000/XXXXsecret", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_the_alert_is_posted_as_slack_compatible_json() -> None:
    with receiver(200) as (url, bodies):
        await WebhookNotifier(url).send(ALERT)

    assert bodies == [
        {
            "text": "salesOrder field custbody_region (Region) added, mandatory\n\n"
            "Every new sales order now fails.",
            "alert": {
                "key": "schema-drift:salesOrder:custbody_region",
                "subject": "salesOrder field custbody_region (Region) added, mandatory",
                "body": "Every new sales order now fails.",
                "severity": "critical",
                "raised_at": "2026-03-04T10:00:00+00:00",
            },
        }
    ]


async def test_a_refusing_receiver_is_a_failure_that_does_not_show_the_url_secret() -> None:
    with receiver(500) as (url, bodies), pytest.raises(NotifyError) as caught:
        await WebhookNotifier(url).send(ALERT)

    assert len(bodies) == 1
    assert "HTTP 500" in str(caught.value)
    assert "secret" not in str(caught.value)


async def test_an_unreachable_receiver_is_a_failure() -> None:
    with receiver(200) as (url, _):
        pass  # stopped: nothing listens any more

    with pytest.raises(NotifyError, match="unreachable"):
        await WebhookNotifier(url, timeout=5).send(ALERT)
