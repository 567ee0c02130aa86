"""The notifiers `[notify]` configures: the log always, e-mail and a webhook when set."""

from __future__ import annotations

import ssl

from .._settings._mapping import NotifyConfig
from ._port import Notifier
from .email import EmailNotifier
from .log import LogNotifier
from .webhook import WebhookNotifier

__all__ = ["configured_notifiers"]


def configured_notifiers(
    config: NotifyConfig, *, ssl_context: ssl.SSLContext | None = None
) -> tuple[Notifier, ...]:
    """The log notifier, plus e-mail when `email.to` is set and a webhook when its URL is."""
    notifiers: list[Notifier] = [LogNotifier()]
    if config.email.enabled:
        notifiers.append(EmailNotifier(config.email, ssl_context=ssl_context))
    if config.webhook_url:
        notifiers.append(WebhookNotifier(config.webhook_url))
    return tuple(notifiers)
