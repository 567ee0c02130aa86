"""The outboxes: in memory (tests, the demo), and in nswoo's store (kept across runs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from ..store._ports import AlertRow
from ..store._ports import PendingAlerts as StoredAlerts
from ._port import Alert, PendingAlert, Severity

__all__ = ["MemoryPendingAlerts", "StorePendingAlerts"]


class MemoryPendingAlerts:
    """`PendingAlerts` in a dict: per (key, channel), the waiting alert or when it was sent."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[str, str], PendingAlert] = {}
        self._sent: dict[tuple[str, str], dt.datetime] = {}

    async def add_alert(
        self, alert: Alert, channels: Sequence[str], due: dt.datetime, *, quiet: dt.timedelta
    ) -> bool:
        """See `PendingAlerts.add_alert`."""
        for channel in channels:
            key = (alert.key, channel)
            sent = self._sent.get(key)
            if key in self._waiting or (sent is not None and alert.raised_at - sent < quiet):
                return False
        for channel in channels:
            self._waiting[(alert.key, channel)] = PendingAlert(alert, channel, due)
        return bool(channels)

    async def due_alerts(self, now: dt.datetime) -> Sequence[PendingAlert]:
        """See `PendingAlerts.due_alerts`."""
        due = [p for p in self._waiting.values() if p.due <= now]
        return sorted(due, key=lambda p: (p.due, p.alert.raised_at, p.alert.key, p.channel))

    async def pending_alerts(self) -> Sequence[PendingAlert]:
        """See `PendingAlerts.pending_alerts`."""
        return sorted(self._waiting.values(), key=lambda p: (p.due, p.alert.key, p.channel))

    async def alert_sent(self, key: str, channel: str, at: dt.datetime) -> None:
        """See `PendingAlerts.alert_sent`."""
        self._waiting.pop((key, channel), None)
        self._sent[(key, channel)] = at

    async def alert_failed(self, key: str, channel: str, error: str, retry_at: dt.datetime) -> None:
        """See `PendingAlerts.alert_failed`."""
        waiting = self._waiting.get((key, channel))
        if waiting is not None:
            self._waiting[(key, channel)] = attrs.evolve(
                waiting, due=retry_at, attempts=waiting.attempts + 1, last_error=error
            )


class StorePendingAlerts:
    """`PendingAlerts` kept in nswoo's store (`Store.pending_alerts`): survives restarts."""

    def __init__(self, port: StoredAlerts) -> None:
        self._port = port

    async def add_alert(
        self, alert: Alert, channels: Sequence[str], due: dt.datetime, *, quiet: dt.timedelta
    ) -> bool:
        """See `PendingAlerts.add_alert`."""
        rows = [
            AlertRow(
                key=alert.key,
                channel=channel,
                subject=alert.subject,
                body=alert.body,
                severity=alert.severity,
                raised_at=alert.raised_at,
                due=due,
            )
            for channel in channels
        ]
        return await self._port.add(rows, quiet_since=alert.raised_at - quiet)

    async def due_alerts(self, now: dt.datetime) -> Sequence[PendingAlert]:
        """See `PendingAlerts.due_alerts`."""
        return [_pending(row) for row in await self._port.due(now)]

    async def pending_alerts(self) -> Sequence[PendingAlert]:
        """See `PendingAlerts.pending_alerts`."""
        return [_pending(row) for row in await self._port.waiting()]

    async def alert_sent(self, key: str, channel: str, at: dt.datetime) -> None:
        """See `PendingAlerts.alert_sent`."""
        await self._port.mark_sent(key, channel, at)

    async def alert_failed(self, key: str, channel: str, error: str, retry_at: dt.datetime) -> None:
        """See `PendingAlerts.alert_failed`."""
        await self._port.mark_failed(key, channel, error, retry_at)


def _pending(row: AlertRow) -> PendingAlert:
    severity: Severity = "critical" if row.severity == "critical" else "warning"
    alert = Alert(row.key, row.subject, row.body, severity, row.raised_at)
    return PendingAlert(alert, row.channel, row.due, row.attempts, row.last_error)
