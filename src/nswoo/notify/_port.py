"""Alerts and the ports that carry them: `Notifier` (a channel) and `PendingAlerts` (the outbox).

An alert is identified by its `key` (for schema drift: record and field), so identical
alerts raised by many orders, or by every weekly run, page once. An alert waits in the
outbox until it is due (office hours) and stays there, with its error, until each channel
has taken it: never lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, Protocol

import attrs

from ..errors import NswooError

__all__ = ["Alert", "Notifier", "NotifyError", "PendingAlert", "PendingAlerts", "Severity"]

Severity = Literal["critical", "warning"]


class NotifyError(NswooError):
    """A channel could not deliver an alert (the message never carries a secret).

    Attributes:
        channel: `email`, `webhook` or `log`.
    """

    def __init__(self, message: str, *, channel: str) -> None:
        super().__init__(f"{channel} notifier: {message}")
        self.channel = channel


@attrs.frozen
class Alert:
    """Something a person must act on.

    Attributes:
        key: what makes two alerts identical (`schema-drift:salesOrder:custbody_x`).
        subject: one line.
        body: the details and what to do, plain text.
        severity: `critical` or `warning`.
        raised_at: when it was raised (aware, UTC).
    """

    key: str
    subject: str
    body: str
    severity: Severity
    raised_at: dt.datetime

    @property
    def text(self) -> str:
        """Subject and body as one text (webhook `text`, log line)."""
        return f"{self.subject}\n\n{self.body}" if self.body else self.subject


@attrs.frozen
class PendingAlert:
    """An alert waiting for one channel."""

    alert: Alert
    channel: str
    due: dt.datetime
    attempts: int = 0
    last_error: str | None = None


class Notifier(Protocol):
    """One channel: e-mail, a JSON webhook, the log."""

    @property
    def channel(self) -> str:
        """The channel's name (`email`, `webhook`, `log`)."""
        ...

    async def send(self, alert: Alert) -> None:
        """Deliver `alert`.

        Raises:
            NotifyError: it could not be delivered (the outbox keeps it and retries).
        """
        ...


class PendingAlerts(Protocol):
    """The outbox: alerts waiting per channel, and what was sent (for de-duplication)."""

    async def add_alert(
        self, alert: Alert, channels: Sequence[str], due: dt.datetime, *, quiet: dt.timedelta
    ) -> bool:
        """Queue `alert` for `channels` at `due`, unless an alert with its key is pending,
        or was sent less than `quiet` before `alert.raised_at`. Returns whether it was queued.
        """
        ...

    async def due_alerts(self, now: dt.datetime) -> Sequence[PendingAlert]:
        """The alerts due at `now` (oldest first)."""
        ...

    async def pending_alerts(self) -> Sequence[PendingAlert]:
        """Every alert still waiting, due or not."""
        ...

    async def alert_sent(self, key: str, channel: str, at: dt.datetime) -> None:
        """Record that `channel` delivered the alert `key`."""
        ...

    async def alert_failed(self, key: str, channel: str, error: str, retry_at: dt.datetime) -> None:
        """Record a failed delivery; the alert stays and is due again at `retry_at`."""
        ...
