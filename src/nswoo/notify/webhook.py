"""The webhook notifier: a JSON POST with a Slack-compatible `text` and the alert's fields.

Slack's incoming webhooks take `{"text": "..."}` (https://api.slack.com/messaging/webhooks);
other receivers read the `alert` object.
"""

from __future__ import annotations

import httpx

from ._port import Alert, NotifyError

__all__ = ["WebhookNotifier"]


class WebhookNotifier:
    """POSTs `{"text": ..., "alert": {...}}` to a URL; any non-2xx answer is a failure.

    The URL often embeds a secret token, so errors name only its host.
    """

    channel = "webhook"

    def __init__(
        self, url: str, *, http: httpx.AsyncClient | None = None, timeout: float = 30.0
    ) -> None:
        self._url = url
        self._http = http
        self._timeout = timeout

    async def send(self, alert: Alert) -> None:
        """Deliver `alert`.

        Raises:
            NotifyError: the receiver could not be reached or did not answer 2xx.
        """
        body = {
            "text": alert.text,
            "alert": {
                "key": alert.key,
                "subject": alert.subject,
                "body": alert.body,
                "severity": alert.severity,
                "raised_at": alert.raised_at.isoformat(),
            },
        }
        host = httpx.URL(self._url).host
        try:
            if self._http is not None:
                response = await self._http.post(self._url, json=body, timeout=self._timeout)
            else:
                async with httpx.AsyncClient(timeout=self._timeout) as http:
                    response = await http.post(self._url, json=body)
        except httpx.HTTPError as exc:
            raise NotifyError(
                f"{host} unreachable ({type(exc).__name__})", channel=self.channel
            ) from None
        if not response.is_success:
            raise NotifyError(f"{host} answered HTTP {response.status_code}", channel=self.channel)
