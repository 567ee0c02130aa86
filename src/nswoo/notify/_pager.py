"""The pager: alerts through the notifiers, within office hours, once, never lost."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

import attrs

from .._settings._mapping import OfficeHours
from ._office_hours import next_send_time
from ._port import Alert, Notifier, NotifyError, PendingAlerts

__all__ = ["FlushReport", "Pager"]

_log = logging.getLogger("nswoo.notify")

RETRY_AFTER = dt.timedelta(minutes=15)
"""How long a failed delivery waits before the next attempt."""

QUIET = dt.timedelta(hours=24)
"""An identical alert (same key) is not sent again within this time of the last one."""


@attrs.frozen
class FlushReport:
    """What one `flush` did: deliveries made, failed (kept), and alerts still waiting."""

    sent: int
    failed: int
    waiting: int
    errors: tuple[str, ...] = ()


class Pager:
    """Raise alerts; send what is due through each notifier; keep what fails.

    Args:
        notifiers: the channels (each alert goes to every one).
        pending: the outbox (`MemoryPendingAlerts`, or the store's).
        hours: the office hours pages wait for.
        now: the current aware UTC time (inject a fake to travel in time).
    """

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        pending: PendingAlerts,
        hours: OfficeHours,
        *,
        now: Callable[[], dt.datetime] | None = None,
        retry_after: dt.timedelta = RETRY_AFTER,
        quiet: dt.timedelta = QUIET,
    ) -> None:
        self._notifiers = {n.channel: n for n in notifiers}
        self._pending = pending
        self._hours = hours
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._retry_after = retry_after
        self._quiet = quiet

    async def raise_alert(self, alert: Alert) -> bool:
        """Queue `alert` for the next office-hours moment, then send whatever is due.

        Returns:
            False when an identical alert (same key) is already waiting or was just sent.
        """
        due = next_send_time(self._hours, alert.raised_at)
        queued = await self._pending.add_alert(
            alert, sorted(self._notifiers), due, quiet=self._quiet
        )
        if queued and due > alert.raised_at:
            _log.warning("alert %r held until %s (office hours)", alert.subject, due.isoformat())
        await self.flush()
        return queued

    async def flush(self) -> FlushReport:
        """Send every due alert; a failure is kept with its error and retried later."""
        now = self._now()
        sent = failed = 0
        errors: list[str] = []
        for waiting in await self._pending.due_alerts(now):
            notifier = self._notifiers.get(waiting.channel)
            if notifier is None:
                continue  # a channel configured before and removed since: kept, not lost
            try:
                await notifier.send(waiting.alert)
            except NotifyError as exc:
                failed += 1
                errors.append(str(exc))
                _log.warning("alert %r not sent: %s", waiting.alert.subject, exc)
                await self._pending.alert_failed(
                    waiting.alert.key, waiting.channel, str(exc), now + self._retry_after
                )
            else:
                sent += 1
                await self._pending.alert_sent(waiting.alert.key, waiting.channel, now)
        waiting_now = len(await self._pending.pending_alerts())
        return FlushReport(sent=sent, failed=failed, waiting=waiting_now, errors=tuple(errors))
