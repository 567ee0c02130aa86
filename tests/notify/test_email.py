"""E-mail alerts through a real SMTP server on loopback (aiosmtpd), over TLS.

Issue 14, "Must show": an e-mail alert arrives at a real local SMTP server started by the
test, with TLS (STARTTLS and implicit TLS); an unreachable server keeps the alert, which
is delivered on a later attempt, never lost.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from tests.notify._tls import self_signed

from nswoo._settings._mapping import EmailTarget, OfficeHours
from nswoo.notify import (
    Alert,
    EmailNotifier,
    MemoryPendingAlerts,
    NotifyError,
    Pager,
    StorePendingAlerts,
)
from nswoo.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)  # a Wednesday, inside 09:00-17:00 UTC
ALERT = Alert(
    key="schema-drift:salesOrder:custbody_woo",
    subject="salesOrder field custbody_woo renamed",
    body="Orders are held: update [orders] custom_field, then run `nswoo orders replay`.",
    severity="critical",
    raised_at=NOW,
)


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class Accounts:
    """An aiosmtpd authenticator knowing one user; keeps the logins it saw."""

    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        ok = (auth_data.login, auth_data.password) == (b"user", b"s3cret-pw")
        self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server(port: int, **tls: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **tls)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def target(url: str) -> EmailTarget:
    return EmailTarget(to=("ops@example.com",), sender="nswoo@example.com", smtp_url=url)


async def test_an_alert_arrives_over_starttls(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    port = free_port()
    with smtp_server(port, tls_context=server_tls, require_starttls=True) as inbox:
        notifier = EmailNotifier(target(f"smtp://127.0.0.1:{port}"), ssl_context=client_tls)
        await notifier.send(ALERT)

    [(recipients, raw)] = inbox.messages
    message = message_from_bytes(raw)
    assert recipients == ["ops@example.com"]
    assert message["Subject"] == "[nswoo critical] salesOrder field custbody_woo renamed"
    assert "nswoo orders replay" in message.get_payload()


async def test_an_alert_arrives_over_implicit_tls(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    port = free_port()
    with smtp_server(port, ssl_context=server_tls) as inbox:
        notifier = EmailNotifier(target(f"smtps://127.0.0.1:{port}"), ssl_context=client_tls)
        await notifier.send(ALERT)

    assert len(inbox.messages) == 1
    assert "custbody_woo" in message_from_bytes(inbox.messages[0][1])["Subject"]


async def test_a_server_whose_certificate_is_not_trusted_is_refused(tmp_path: Path) -> None:
    server_tls, _ = self_signed(tmp_path)
    port = free_port()
    with smtp_server(port, ssl_context=server_tls) as inbox:
        notifier = EmailNotifier(
            target(f"smtps://127.0.0.1:{port}"), ssl_context=ssl.create_default_context()
        )
        with pytest.raises(NotifyError, match="TLS failed"):
            await notifier.send(ALERT)

    assert inbox.messages == []


async def test_an_unreachable_server_keeps_the_alert_and_a_later_attempt_delivers_it(
    tmp_path: Path,
) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    port = free_port()  # nothing listens there yet
    clock = [NOW]
    outbox = MemoryPendingAlerts()
    notifier = EmailNotifier(
        target(f"smtps://user:s3cret-pw@127.0.0.1:{port}"), ssl_context=client_tls
    )
    pager = Pager([notifier], outbox, OfficeHours(), now=lambda: clock[0])

    assert await pager.raise_alert(ALERT) is True

    [kept] = await outbox.pending_alerts()
    assert kept.attempts == 1
    assert kept.last_error is not None
    assert "unreachable" in kept.last_error
    assert "s3cret-pw" not in kept.last_error
    accounts = Accounts()
    with smtp_server(
        port, ssl_context=server_tls, authenticator=accounts, auth_require_tls=False
    ) as inbox:
        assert (await pager.flush()).sent == 0  # not due again yet
        clock[0] = NOW + dt.timedelta(minutes=15)
        report = await pager.flush()

    assert (report.sent, report.failed, report.waiting) == (1, 0, 0)
    assert len(inbox.messages) == 1
    assert accounts.logins == ["user"]


async def test_an_alert_the_server_could_not_take_survives_a_restart_in_the_store(
    tmp_path: Path,
) -> None:
    """Kept in the SQLite store, the alert is still there for the next run, which sends it."""
    server_tls, client_tls = self_signed(tmp_path)
    port = free_port()
    clock = [NOW]
    notifier = EmailNotifier(target(f"smtps://127.0.0.1:{port}"), ssl_context=client_tls)
    async with await SqliteStore.open(tmp_path / "nswoo.db") as store:
        pager = Pager(
            [notifier],
            StorePendingAlerts(store.pending_alerts),
            OfficeHours(),
            now=lambda: clock[0],
        )
        first = await pager.raise_alert(ALERT)

    clock[0] = NOW + dt.timedelta(hours=1)
    with smtp_server(port, ssl_context=server_tls) as inbox:
        async with await SqliteStore.open(tmp_path / "nswoo.db") as store:
            outbox = StorePendingAlerts(store.pending_alerts)
            [kept] = await outbox.pending_alerts()
            pager = Pager([notifier], outbox, OfficeHours(), now=lambda: clock[0])
            again = await pager.raise_alert(attrs.evolve(ALERT, raised_at=clock[0]))
            left = await outbox.pending_alerts()

    assert (first, again) == (True, False)  # the second raise is the same alert
    assert kept.alert == ALERT
    assert kept.attempts == 1
    assert len(inbox.messages) == 1
    assert left == []
