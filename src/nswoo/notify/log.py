"""The log notifier: an alert as one log record on the `nswoo.notify` logger."""

from __future__ import annotations

import logging

from ._port import Alert

__all__ = ["LogNotifier"]


class LogNotifier:
    """Writes each alert to the log (ERROR for critical, WARNING otherwise); never fails."""

    channel = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("nswoo.notify")

    async def send(self, alert: Alert) -> None:
        """Log `alert`."""
        level = logging.ERROR if alert.severity == "critical" else logging.WARNING
        self._logger.log(level, "%s: %s", alert.subject, alert.body.replace("\n", " | "))
