"""Alerts to people: notifiers (e-mail, JSON webhook, log), office hours, an outbox.

- `Notifier` (a Protocol): `EmailNotifier`, `WebhookNotifier`, `LogNotifier`;
- `Pager`: raises an alert once (identical alerts share a key), holds it until office hours
  (`next_send_time`, pure), and keeps it in a `PendingAlerts` outbox until each channel
  has taken it.
"""

from __future__ import annotations

from ._office_hours import next_send_time as next_send_time
from ._outbox import MemoryPendingAlerts as MemoryPendingAlerts
from ._outbox import StorePendingAlerts as StorePendingAlerts
from ._pager import FlushReport as FlushReport
from ._pager import Pager as Pager
from ._port import Alert as Alert
from ._port import Notifier as Notifier
from ._port import NotifyError as NotifyError
from ._port import PendingAlert as PendingAlert
from ._port import PendingAlerts as PendingAlerts
from .email import EmailNotifier as EmailNotifier
from .log import LogNotifier as LogNotifier
from .webhook import WebhookNotifier as WebhookNotifier

__all__ = [
    "Alert",
    "EmailNotifier",
    "FlushReport",
    "LogNotifier",
    "MemoryPendingAlerts",
    "Notifier",
    "NotifyError",
    "Pager",
    "PendingAlert",
    "PendingAlerts",
    "StorePendingAlerts",
    "WebhookNotifier",
    "next_send_time",
]
